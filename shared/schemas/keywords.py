"""Tracked keywords. The same model validates API input and each line of an import file."""

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field, StringConstraints, TypeAdapter

from shared.schemas.common import InputModel, OutputModel

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


KeywordText = Annotated[str, StringConstraints(max_length=500), AfterValidator(normalize_keyword)]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
Country = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]
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


class KeywordPatch(InputModel):
    tags: Tags | None = None
    target_url: TargetUrl = None


class KeywordOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID
    text: str
    locale: str
    country: str
    device: str
    tags: list[str]
    target_url: str | None
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
