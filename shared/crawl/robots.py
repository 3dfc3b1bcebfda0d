"""robots.txt as RFC 9309 reads it (through Protego): what a crawl may fetch, how slowly, and its sitemaps.

Protego matches the longest rule, with ``*`` and ``$`` (``urllib.robotparser`` takes the first match
and knows no wildcards). What the fetch of robots.txt answered decides the rest (RFC 9309 2.3.1):
a 4xx means there are no rules, so everything may be crawled; a 5xx or no answer at all means the
site is unreachable, so nothing may be crawled until a later crawl fetches it again. Only the first
500 KiB are read, the least the RFC asks crawlers to parse.
"""

from dataclasses import dataclass
from typing import Literal

from protego import Protego

MAX_BYTES = 500 * 1024
Source = Literal["fetched", "none", "unreachable"]


@dataclass(frozen=True)
class RobotsRules:
    """The rules a crawl follows for one host, for its user agent (the product token names it)."""

    source: Source
    user_agent: str
    _parsed: Protego | None = None

    def allows(self, url: str) -> bool:
        if self.source == "unreachable":
            return False
        return self._parsed is None or bool(self._parsed.can_fetch(url, self.user_agent))

    @property
    def crawl_delay(self) -> float | None:
        """Seconds between two requests the site asks for, if it asks."""
        delay = None if self._parsed is None else self._parsed.crawl_delay(self.user_agent)
        return None if delay is None else float(delay)

    @property
    def sitemaps(self) -> list[str]:
        return [] if self._parsed is None else list(self._parsed.sitemaps)


def robots_rules(status: int | None, body: bytes | None, *, user_agent: str) -> RobotsRules:
    """The rules from the answer to ``GET /robots.txt``: its status (None: no answer at all) and body."""
    if status is None or status >= 500:
        return RobotsRules("unreachable", user_agent)
    if status >= 400 or body is None:
        return RobotsRules("none", user_agent)
    text = body[:MAX_BYTES].decode("utf-8", errors="replace")
    return RobotsRules("fetched", user_agent, Protego.parse(text))
