"""Projects (a site), their Search Console properties and tracked keywords; keyword imports.

The keyword model validates API input and each line of an import file alike.
"""

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field, StringConstraints, TypeAdapter, model_validator

from shared.imports.uploads import UploadTarget
from shared.jobs.models import JobOut
from shared.models import InputModel, OutputModel
from shared.ranks import countries

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def _domain(value: str) -> str:
    """Accept "Example.com", "https://www.example.com/" and keep the bare hostname."""
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip().lower()).split("/", 1)[0].split(":", 1)[0]
    host = host.rstrip(".")
    if not _HOSTNAME.match(host):
        raise ValueError("must be a domain name such as example.com")
    return host


def _site_url(value: str) -> str:
    """A Search Console property: ``sc-domain:example.com`` or a URL prefix ending in ``/``."""
    value = value.strip()
    if value.startswith("sc-domain:"):
        return "sc-domain:" + _domain(value.removeprefix("sc-domain:"))
    match = re.match(r"^(https?)://([^/]+)(/.*)?$", value, flags=re.IGNORECASE)
    if not match:
        raise ValueError("must be 'sc-domain:example.com' or a URL prefix like 'https://www.example.com/'")
    path = match.group(3) or "/"
    return f"{match.group(1).lower()}://{_domain(match.group(2))}{path if path.endswith('/') else path + '/'}"


# The patterns state in the schema (the OpenAPI document) what the validators check beyond them: each is a
# necessary condition of the validator, so no value the validator accepts breaks it.
NOT_BLANK = r"\S"
_HOSTNAME_IN_INPUT = r"[A-Za-z0-9-]\.[A-Za-z0-9-]"
_SITE_URL_PREFIX = r"^\s*(sc-domain:|[Hh][Tt][Tt][Pp][Ss]?://)"

Domain = Annotated[
    str, StringConstraints(min_length=1, max_length=253, pattern=_HOSTNAME_IN_INPUT), AfterValidator(_domain)
]
SiteUrl = Annotated[
    str, StringConstraints(min_length=1, max_length=2048, pattern=_SITE_URL_PREFIX), AfterValidator(_site_url)
]
BrandTerm = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=100, pattern=NOT_BLANK)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)]


# How deep each daily rank check looks: DataForSEO's results in pages of ten, each page past the first priced
# at 0.75 of the base (shared/ranks/serp.py).
RankDepth = Annotated[int, Field(ge=10, le=100, multiple_of=10)]


class ProjectIn(InputModel):
    name: Name
    domain: Domain
    brand_terms: list[BrandTerm] = Field(default_factory=list, max_length=100)
    rank_depth: RankDepth = 10


class PatchModel(InputModel):
    """A PATCH body: an omitted field keeps its value, and so does one given as null, unless it is clearable."""

    clearable: ClassVar[frozenset[str]] = frozenset()  # fields whose null is stored (nullable columns)

    @model_validator(mode="after")
    def _null_keeps_the_value(self) -> Self:
        for name in [n for n in self.model_fields_set if getattr(self, n) is None and n not in self.clearable]:
            self.model_fields_set.discard(name)
        return self


class ProjectPatch(PatchModel):
    name: Name | None = None
    domain: Domain | None = None
    brand_terms: list[BrandTerm] | None = Field(default=None, max_length=100)
    rank_depth: RankDepth | None = None


class ProjectOut(OutputModel):
    id: uuid.UUID
    name: str
    domain: str
    brand_terms: list[str]
    rank_depth: int
    created_at: datetime
    updated_at: datetime


PropertyStatus = Literal["active", "paused"]


class PropertyIn(InputModel):
    site_url: SiteUrl
    status: PropertyStatus = "active"


class PropertyPatch(InputModel):
    status: PropertyStatus


class PropertyOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID
    site_url: str
    status: str
    created_at: datetime
    updated_at: datetime


MAX_BULK_KEYWORDS = 1000


def normalize_keyword(value: str) -> str:
    """One spelling per keyword: Unicode-normalised, lower-cased, single-spaced."""
    text = " ".join(unicodedata.normalize("NFKC", value).lower().split())
    if not text:
        raise ValueError("must not be empty")
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ValueError("must not contain control characters")
    return text


def _tags(values: list[str]) -> list[str]:
    return sorted({" ".join(tag.lower().split()) for tag in values if tag.strip()})


KeywordText = Annotated[
    str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), AfterValidator(normalize_keyword)
]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]


def _iso_country(code: str) -> str:
    """An ISO 3166-1 alpha-2 code: ranks are checked and Search Console rows compared by it."""
    try:
        return countries.by_alpha2(code).alpha2
    except countries.UnknownCountry:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)") from None


Country = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$"), AfterValidator(_iso_country)]
Device = Literal["desktop", "mobile"]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_tags)]


_HTTP_URL = TypeAdapter(AnyHttpUrl)


def _http_url(value: str | None) -> str | None:
    return str(_HTTP_URL.validate_python(value)) if value is not None else None


TargetUrl = Annotated[str | None, StringConstraints(max_length=2048), AfterValidator(_http_url)]


class KeywordIn(InputModel):
    text: KeywordText
    locale: Locale = "en"
    country: Country = "US"
    device: Device = "desktop"
    tags: Tags = Field(default_factory=list)
    target_url: TargetUrl = None

    def identity(self) -> tuple[str, str, str, str]:
        """What makes two keywords of a project the same."""
        return (self.text, self.locale, self.country, self.device)


class KeywordPatch(PatchModel):
    clearable = frozenset({"target_url"})

    tags: Tags | None = None
    target_url: TargetUrl = None
    active: bool | None = None  # false: no daily rank check until set true again (its history stays)


class KeywordOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID
    text: str
    locale: str
    country: str
    device: str
    tags: list[str]
    target_url: str | None
    active: bool
    created_at: datetime


class KeywordBulkIn(InputModel):
    keywords: list[KeywordIn] = Field(min_length=1, max_length=MAX_BULK_KEYWORDS)


class KeywordDuplicate(BaseModel):
    index: int = Field(description="Position of the keyword in the request.")
    text: str
    reason: Literal["already tracked", "repeated in request"]


class KeywordBulkOut(BaseModel):
    created: list[KeywordOut]
    duplicates: list[KeywordDuplicate]


class KeywordImportIn(InputModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "keywords.csv"


class KeywordImportOut(BaseModel):
    job: JobOut
    upload: UploadTarget
