"""The on-page facts of a fetched HTML page, and whether a search engine may index it.

Pages are whatever a site serves: a wrong or missing charset, unclosed tags, broken JSON-LD.
Lexbor parses HTML as a browser does, so malformed markup still yields facts, and ``extract_page``
never raises: an undecodable byte becomes U+FFFD and ``decode_error`` says so. Main text comes from
trafilatura (precision over recall, no comments or tables: the text a reader came for), and the
content hash covers only that text, title, description and H1s, so a changed footer or navigation
does not make every page of a site "changed".
"""

import codecs
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import trafilatura
from selectolax.lexbor import LexborHTMLParser, LexborNode

from shared.crawl.fetch import HTML_TYPES
from shared.crawl.urls import normalize

# trafilatura logs an ERROR for every page too short to extract from: a fact about the page, not a failure.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

SKIPPED_LINK_SCHEMES = ("javascript:", "mailto:", "tel:")
# The bots whose robots directives an SEO audit reads: every bot's, and Google's.
ROBOTS_META_NAMES = ("robots", "googlebot")
# Robots directives that carry a value after a colon; any other "word:" names a bot (Google's syntax).
_VALUED_DIRECTIVES = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})
# The HTML prescan reads the first 1024 bytes for a <meta charset> or http-equiv Content-Type.
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Browsers decode these labels as windows-1252 (WHATWG Encoding), and so do pages written for them.
_WINDOWS_1252_LABELS = frozenset({"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "iso8859-1"})
_LINK_HEADER_ENTRY = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_LINK_HEADER_PARAM = re.compile(r"""([A-Za-z*-]+)\s*=\s*("[^"]*"|[^;,\s]*)""")


@dataclass(frozen=True)
class Link:
    """An http(s) link of the page: absolute, normalized, with its anchor text and rel tokens."""

    url: str
    text: str
    rel: tuple[str, ...]
    internal: bool


@dataclass(frozen=True)
class PageFacts:
    charset: str
    decode_error: bool
    title: str | None
    meta_description: str | None
    h1s: tuple[str, ...]
    outline: tuple[tuple[int, str], ...]
    lang: str | None
    canonical: str | None
    canonical_source: Literal["html", "header"] | None
    canonical_conflict: bool
    meta_robots: str | None
    x_robots_tag: str | None
    hreflang: tuple[tuple[str, str], ...]
    jsonld_types: tuple[str, ...]
    open_graph: Mapping[str, str]
    main_text: str
    word_count: int
    content_hash: str
    links: tuple[Link, ...]
    images_without_alt: tuple[str, ...]
    noindex: bool
    nofollow: bool


IndexabilityReason = Literal[
    "indexable",
    "not_fetched",
    "redirect",
    "client_error",
    "server_error",
    "not_html",
    "noindex",
    "canonicalised",
    "blocked_by_robots",
]
INDEXABILITY_REASONS: tuple[IndexabilityReason, ...] = get_args(IndexabilityReason)


@dataclass(frozen=True)
class Indexability:
    indexable: bool
    reason: IndexabilityReason


BLOCKED_BY_ROBOTS = Indexability(False, "blocked_by_robots")


def _collapse(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _known_codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = "cp1252" if label in _WINDOWS_1252_LABELS else label
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str, bool]:
    """``(text, charset, decode_error)``: BOM, then the header's charset, then the page's meta, then UTF-8.

    A BOM wins over the header, as in browsers (WHATWG: a BOM is never wrong about its own bytes).
    """
    bom = next(((mark, name) for mark, name in _BOMS if body.startswith(mark)), None)
    meta = _META_CHARSET.search(body[:1024])
    if bom is not None:
        charset, body = bom[1], body[len(bom[0]) :]
    else:
        charset = _known_codec(header_charset) or _known_codec(meta[1].decode("ascii") if meta else None) or "utf-8"
    try:
        return body.decode(charset), charset, False
    except UnicodeDecodeError:
        return body.decode(charset, errors="replace"), charset, True


def _link_header(value: str | None) -> Iterator[tuple[str, dict[str, str]]]:
    """``(target, parameters)`` of each entry of an HTTP Link header (RFC 8288), parameter names lowercased."""
    for match in _LINK_HEADER_ENTRY.finditer(value or ""):
        parameters = {name.lower(): raw.strip('"') for name, raw in _LINK_HEADER_PARAM.findall(match[2])}
        yield match[1].strip(), parameters


def _absolute(href: str | None, base: str) -> str | None:
    """The normalized http(s) URL ``href`` names, or None (no href, a fragment, another scheme, garbage)."""
    href = (href or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(SKIPPED_LINK_SCHEMES):
        return None
    try:
        url = normalize(href, base=base)
    except ValueError:
        return None
    return url if url.startswith(("http://", "https://")) else None


def _directives(text: str) -> list[str]:
    return [token.strip().lower() for token in text.split(",") if token.strip()]


def _x_robots_directives(value: str | None) -> list[str]:
    """The X-Robots-Tag directives for every bot and for Google; lines naming another bot are skipped."""
    applying: list[str] = []
    bot: str | None = None
    for directive in _directives(value or ""):
        name, colon, rest = directive.partition(":")
        if colon and name.strip() not in _VALUED_DIRECTIVES:
            # "otherbot: noindex": this and the directives after it, up to another bot's name, are its own.
            bot, directive = name.strip(), rest.strip()
        if bot in (None, "googlebot") and directive:
            applying.append(directive)
    return applying


def _jsonld_types(document: Any) -> Iterator[str]:
    """Every ``@type`` in a JSON-LD document, nested objects and ``@graph`` members included."""
    if isinstance(document, list):
        for item in document:
            yield from _jsonld_types(item)
    elif isinstance(document, dict):
        kind = document.get("@type")
        if isinstance(kind, str):
            yield kind
        elif isinstance(kind, list):
            yield from (k for k in kind if isinstance(k, str))
        for value in document.values():
            yield from _jsonld_types(value)


def _main_text(html: str, tree: LexborHTMLParser, url: str) -> str:
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_precision=True, deduplicate=False
    )
    if text:
        return text
    # trafilatura gives up on short or unusual pages; the main region's text is the next best thing.
    region = tree.css_first("main") or tree.css_first("article") or tree.body
    return region.text(separator=" ", strip=True) if region is not None else ""


def content_hash(main_text: str, title: str | None, meta_description: str | None, h1s: tuple[str, ...]) -> str:
    """sha256 of what a reader and a search engine see of a page, whitespace-insensitive."""
    parts = [_collapse(main_text), title or "", meta_description or "", *h1s]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _unique[T](items: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


def _text(node: LexborNode) -> str:
    return _collapse(node.text(separator=" "))


@dataclass(frozen=True)
class _HeadLinks:
    """Canonical and hreflang alternates, from ``<link>`` elements and the HTTP Link header."""

    html_canonical: str | None
    header_canonical: str | None
    hreflang: tuple[tuple[str, str], ...]


def _head_links(tree: LexborHTMLParser, base: str, link_header: str | None, url: str) -> _HeadLinks:
    # (rel tokens, href, hreflang, the URL relative hrefs resolve against); header targets resolve against the URL.
    entries = [
        (
            (node.attributes.get("rel") or "").lower().split(),
            node.attributes.get("href"),
            node.attributes.get("hreflang"),
            base,
        )
        for node in tree.css("link[rel][href]")
    ]
    header_entries = [
        (params.get("rel", "").lower().split(), target, params.get("hreflang"), url)
        for target, params in _link_header(link_header)
    ]

    def first_canonical(candidates: Sequence[tuple[list[str], str | None, str | None, str]]) -> str | None:
        return next(
            (absolute for rel, href, _, at in candidates if "canonical" in rel and (absolute := _absolute(href, at))),
            None,
        )

    hreflang = _unique(
        (lang.strip().lower(), absolute)
        for rel, href, lang, at in entries + header_entries
        if "alternate" in rel and lang and lang.strip() and (absolute := _absolute(href, at))
    )
    return _HeadLinks(first_canonical(entries), first_canonical(header_entries), hreflang)


def _links(tree: LexborHTMLParser, base: str, is_internal: Callable[[str], bool]) -> tuple[Link, ...]:
    links = []
    for node in tree.css("a[href]"):
        url = _absolute(node.attributes.get("href"), base)
        if url is None:
            continue
        text = _text(node)
        if not text:
            # An image link's anchor text is its alt text.
            image = node.css_first("img[alt]")
            text = _collapse(image.attributes.get("alt")) if image is not None else ""
        rel = tuple((node.attributes.get("rel") or "").lower().split())
        links.append(Link(url, text, rel, is_internal(url)))
    return tuple(links)


def extract_page(
    body: bytes,
    *,
    url: str,
    header_charset: str | None,
    link_header: str | None,
    x_robots_tag: str | None,
    is_internal: Callable[[str], bool],
) -> PageFacts:
    """The facts of the HTML page ``body`` fetched from ``url`` (its final URL, after redirects)."""
    html, charset, decode_error = decode_html(body, header_charset)
    tree = LexborHTMLParser(html)
    base_node = tree.css_first("base[href]")
    base = (_absolute(base_node.attributes.get("href"), url) if base_node is not None else None) or url

    description: str | None = None
    open_graph: dict[str, str] = {}
    meta_robots: list[str] = []
    for meta in tree.css("meta"):
        name = (meta.attributes.get("name") or "").strip().lower()
        prop = (meta.attributes.get("property") or "").strip().lower()
        content = meta.attributes.get("content") or ""
        if name in ROBOTS_META_NAMES:
            meta_robots.extend(_directives(content))
        elif name == "description" and description is None:
            description = _collapse(content)
        if prop.startswith("og:"):
            open_graph.setdefault(prop, content.strip())
    header_robots = _x_robots_directives(x_robots_tag)
    robots = set(meta_robots) | set(header_robots)

    title_node = tree.css_first("title")
    title = (_collapse(title_node.text()) or None) if title_node is not None else None
    h1s = tuple(text for node in tree.css("h1") if (text := _text(node)))
    outline = tuple((2 if node.tag == "h2" else 3, text) for node in tree.css("h2, h3") if (text := _text(node)))
    html_node = tree.css_first("html")
    lang = ((html_node.attributes.get("lang") or "").strip() or None) if html_node is not None else None
    head_links = _head_links(tree, base, link_header, url)
    canonical = head_links.html_canonical or head_links.header_canonical

    jsonld: list[str] = []
    for script in tree.css("script[type]"):
        if (script.attributes.get("type") or "").strip().lower() == "application/ld+json":
            try:
                jsonld.extend(_jsonld_types(json.loads(script.text())))
            except ValueError:
                continue  # Invalid JSON-LD is ignored, as search engines do.

    main_text = _main_text(html, tree, url)
    return PageFacts(
        charset=charset,
        decode_error=decode_error,
        title=title,
        meta_description=description,
        h1s=h1s,
        outline=outline,
        lang=lang,
        canonical=canonical,
        canonical_source="html" if head_links.html_canonical else "header" if head_links.header_canonical else None,
        canonical_conflict=None not in (head_links.html_canonical, head_links.header_canonical)
        and head_links.html_canonical != head_links.header_canonical,
        meta_robots=", ".join(_unique(meta_robots)) or None,
        x_robots_tag=", ".join(_unique(header_robots)) or None,
        hreflang=head_links.hreflang,
        jsonld_types=_unique(jsonld),
        open_graph=open_graph,
        main_text=main_text,
        word_count=len(main_text.split()),
        content_hash=content_hash(main_text, title, description, h1s),
        links=_links(tree, base, is_internal),
        images_without_alt=_unique(
            src
            for node in tree.css("img[src]")
            if "alt" not in node.attributes and (src := _absolute(node.attributes.get("src"), base))
        ),
        noindex=bool(robots & {"noindex", "none"}),
        nofollow=bool(robots & {"nofollow", "none"}),
    )


def indexability(status: int | None, content_type: str | None, facts: PageFacts | None, url: str) -> Indexability:
    """Whether a search engine may index the page fetched from ``url``, and if not, the first reason why.

    A page robots.txt disallowed is never fetched: the worker records ``BLOCKED_BY_ROBOTS`` for it.
    """
    if status is None:
        return Indexability(False, "not_fetched")
    if status >= 500:
        return Indexability(False, "server_error")
    if status >= 400:
        return Indexability(False, "client_error")
    if status >= 300:
        return Indexability(False, "redirect")
    if content_type not in HTML_TYPES:
        return Indexability(False, "not_html")
    if facts is None:
        return Indexability(False, "not_fetched")
    if facts.noindex:
        return Indexability(False, "noindex")
    if facts.canonical is not None and facts.canonical != _normalized_or_same(url):
        return Indexability(False, "canonicalised")
    return Indexability(True, "indexable")


def _normalized_or_same(url: str) -> str:
    try:
        return normalize(url)
    except ValueError:
        return url
