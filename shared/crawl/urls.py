"""One spelling per page: URL normalisation, and the scope a crawl stays in.

A crawl meets the same page under many spellings (``HTTP://Example.com:80/a/../b#top``,
``http://example.com/%62``); it fetches, stores and compares the one ``normalize`` gives,
so a page is crawled once and links, canonicals and hreflang pairs compare as strings.
Normalisation never changes what a server sees: the query is kept as it is (its order
and encoding may matter to the site), only escapes of unreserved characters are undone.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import idna

DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 2.3: escapes of these characters mean the character itself.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Everything RFC 3986 allows unescaped in a path or query, and ``%`` so existing escapes survive.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def ascii_host(host: str) -> str:
    """A host name lowercased and in its IDNA (punycode) form; an IP literal as it is."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        # Not a valid IDN: keep it as the server's own links spell it rather than refuse the page.
        return host


def host_of(url: str) -> str:
    """The URL's host, lowercased and IDNA-encoded, without port (``""`` when it has none)."""
    return ascii_host(urlsplit(url).hostname or "")


def _normalize_escapes(text: str, safe: str) -> str:
    unescaped = _ESCAPE.sub(
        lambda m: chr(int(m[1], 16)) if chr(int(m[1], 16)) in _UNRESERVED else f"%{m[1].upper()}", text
    )
    # Spaces and non-ASCII characters a page wrote unescaped become UTF-8 escapes, as a browser sends them.
    return quote(unescaped, safe=safe)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, on a path that starts with ``/``."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = path.endswith(("/.", "/.."))
    return "/" + "/".join(output) + ("/" if trailing and output else "")


def normalize(url: str, base: str | None = None) -> str:
    """``url`` (resolved against ``base``) in its one spelling: absolute, no fragment, no default port.

    Raises ``ValueError`` when the result is not an absolute URL with a host, or has an invalid port.
    """
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(absolute)
    scheme = parts.scheme.lower()
    if not scheme or not parts.hostname:
        raise ValueError(f"{url!r} is not an absolute URL with a host")
    host = ascii_host(parts.hostname)
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{credentials}@{netloc}"
    path = _remove_dot_segments(_normalize_escapes(parts.path or "/", _PATH_SAFE))
    query = _normalize_escapes(parts.query, _QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def _path_pattern(pattern: str) -> re.Pattern[str]:
    """A robots-style path pattern: a prefix, ``*`` for any run of characters, a trailing ``$`` for the end."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""))


@dataclass(frozen=True)
class CrawlScope:
    """The pages a crawl of ``domain`` may visit.

    ``domain`` is the site's registrable host (a leading ``www.`` is ignored): the crawl visits it and
    its ``www.`` host, other subdomains only with ``include_subdomains``, over http(s) only. ``include``
    and ``exclude`` are robots-style path patterns (``/blog/``, ``/*.pdf$``) matched against the path and
    query; an excluded path is never visited, and with includes only the paths they match are.
    """

    domain: str
    include_subdomains: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    _included: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _excluded: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen: the normalised domain and compiled patterns are set once, here.
        object.__setattr__(self, "domain", ascii_host(self.domain).removeprefix("www."))
        object.__setattr__(self, "_included", tuple(_path_pattern(p) for p in self.include))
        object.__setattr__(self, "_excluded", tuple(_path_pattern(p) for p in self.exclude))

    def contains(self, url: str) -> bool:
        """Whether the URL is on the crawled site (scheme and host only; paths are ``admits_path``'s)."""
        if urlsplit(url).scheme.lower() not in DEFAULT_PORTS:
            return False
        host = host_of(url)
        if host in (self.domain, f"www.{self.domain}"):
            return True
        return self.include_subdomains and host.endswith(f".{self.domain}")

    def admits_path(self, url: str) -> bool:
        """Whether the include and exclude patterns let the crawl visit this URL's path (exclude wins)."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if any(pattern.match(target) for pattern in self._excluded):
            return False
        return not self._included or any(pattern.match(target) for pattern in self._included)
