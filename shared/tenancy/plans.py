"""Plans: what each tier of customer may ask of the platform at once."""

from typing import Literal

Plan = Literal["free", "pro", "agency"]

CRAWL_PAGE_LIMITS: dict[Plan, int] = {"free": 500, "pro": 10_000, "agency": 50_000}
"""The most pages one crawl of a project may fetch."""
