"""Projects (a site) and their Search Console properties."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from shared.schemas.common import InputModel, OutputModel

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


Domain = Annotated[str, StringConstraints(max_length=253), AfterValidator(_domain)]
SiteUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_site_url)]
BrandTerm = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=100)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ProjectIn(InputModel):
    name: Name
    domain: Domain
    brand_terms: list[BrandTerm] = Field(default_factory=list, max_length=100)


class ProjectPatch(InputModel):
    name: Name | None = None
    domain: Domain | None = None
    brand_terms: list[BrandTerm] | None = Field(default=None, max_length=100)


class ProjectOut(OutputModel):
    id: uuid.UUID
    name: str
    domain: str
    brand_terms: list[str]
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
