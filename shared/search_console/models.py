"""Search Console: API request/response models and the queue messages of gsc_sync and gsc_ingest."""

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.imports.uploads import UploadTarget
from shared.jobs.models import JobOut
from shared.jobs.models import JobProgress as JobProgress  # defined next to JobOut, re-exported
from shared.models import InputModel

SearchType = Literal["web", "image", "video", "news", "discover", "googleNews"]
SEARCH_TYPES: tuple[SearchType, ...] = ("web", "image", "video", "news", "discover", "googleNews")
# Search Console revises its freshest days (final data lags 2-3 days): syncs fetch them with dataState "all"
# and reports call them provisional.
FRESH_DAYS = 3
Device = Literal["DESKTOP", "MOBILE", "TABLET"]
DataState = Literal["final", "all"]
HISTORY_DAYS = 487  # Search Console keeps about 16 months
CHUNK_ROWS = 25_000  # the API's maximum rowLimit: one API page is one chunk
SYNCABLE_CONNECTIONS = ("connected", "verified")  # as kestrel_syncable_properties() selects (migration 0003)


# ---------------------------------------------------------------- rows
class GscRowIn(BaseModel):
    """One row of a chunk (one NDJSON line): a Search Analytics row with its dimensions named."""

    model_config = ConfigDict(frozen=True)

    date: dt.date
    search_type: SearchType
    query: str
    page: str
    country: Annotated[str, StringConstraints(pattern=r"^[a-z]{3}$")]
    device: Device
    clicks: int = Field(ge=0)
    impressions: int = Field(ge=0)
    ctr: float = Field(ge=0)
    position: float = Field(ge=0)


# ---------------------------------------------------------------- queue messages
class SyncDayMessage(BaseModel):
    """gsc_sync: fetch one day of one property, every requested search type, page by page."""

    kind: Literal["sync_day"] = "sync_day"
    tenant_id: str
    job_id: uuid.UUID
    property_id: uuid.UUID
    date: dt.date
    search_types: list[SearchType] = Field(min_length=1)
    data_state: DataState = "final"


class ScheduledSyncMessage(BaseModel):
    """gsc_sync: the 05:00 UTC EventBridge input: sync the last ``days`` days of every active property."""

    kind: Literal["scheduled_sync"]
    days: int = Field(default=3, ge=1, le=30)


SyncMessage = Annotated[SyncDayMessage | ScheduledSyncMessage, Field(discriminator="kind")]


class LoadChunkMessage(BaseModel):
    """gsc_ingest: load one chunk (an S3 object of gzip NDJSON rows) into gsc_rows."""

    kind: Literal["load_chunk"] = "load_chunk"
    tenant_id: str
    job_id: uuid.UUID
    property_id: uuid.UUID
    bucket: str
    key: str
    rows: int = Field(ge=0)
    date: dt.date | None = Field(default=None, description="The job day the chunk belongs to (syncs only).")


# ---------------------------------------------------------------- API: connections
class ServiceAccountCredential(BaseModel):
    """A Google service account key file (JSON) as downloaded from Google Cloud; unused fields are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: Literal["service_account"]
    client_email: Annotated[str, StringConstraints(min_length=3, max_length=320)]
    private_key: Annotated[str, StringConstraints(min_length=64, max_length=16_000)]
    private_key_id: str | None = None
    token_uri: str | None = None


class AuthorizedUserCredential(BaseModel):
    """An OAuth 2.0 refresh token with its client, as in Google's ``authorized_user`` credential file."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: Literal["authorized_user"]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    client_secret: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    token_uri: str | None = None


GscCredential = Annotated[ServiceAccountCredential | AuthorizedUserCredential, Field(discriminator="type")]


class ConnectionIn(InputModel):
    credential: GscCredential


ConnectionStatus = Literal["unconnected", "connected", "verified", "failed"]


class ConnectionOut(BaseModel):
    """A property's Search Console connection. The credential itself is never returned."""

    property_id: uuid.UUID
    site_url: str
    connection_status: ConnectionStatus
    credential_type: Literal["service_account", "authorized_user"] | None
    credential_identity: str | None = Field(description="The service account e-mail or OAuth client id.")
    connection_checked_at: dt.datetime | None
    connection_error: str | None


# ---------------------------------------------------------------- API: syncs and imports
class SyncIn(InputModel):
    """A sync or backfill of a date range (inclusive), split into one unit of work per day."""

    start_date: dt.date
    end_date: dt.date
    search_types: list[SearchType] = Field(default_factory=lambda: list(SEARCH_TYPES), min_length=1)

    @model_validator(mode="after")
    def _range(self) -> "SyncIn":
        if self.start_date > self.end_date:
            raise ValueError("start_date must not be after end_date")
        if len(set(self.search_types)) != len(self.search_types):
            raise ValueError("search_types must not repeat")
        return self


ExportFormat = Literal["ui_export", "bulk_export"]


class GscExportImportIn(InputModel):
    """A Search Console export to upload: the UI's zip or one of its CSVs, or bulk-export rows (CSV or gzip CSV)."""

    format: ExportFormat
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    # UI exports only: the range and search type of the export, when it has no Filters.csv saying so.
    range_start: dt.date | None = None
    range_end: dt.date | None = None
    search_type: SearchType | None = None

    @model_validator(mode="after")
    def _range(self) -> "GscExportImportIn":
        if (self.range_start is None) != (self.range_end is None):
            raise ValueError("give both range_start and range_end, or neither")
        if self.range_start and self.range_end and self.range_start > self.range_end:
            raise ValueError("range_start must not be after range_end")
        return self


class GscExportImportOut(BaseModel):
    """The export import's job, and where to PUT the file (then the file_import worker reads it)."""

    job: JobOut
    upload: UploadTarget
