"""A catalogue page as the bytes a browser gets: the site's header and footer around ``<main><article>``.

Deterministic: the same page renders to the same bytes. Pages flagged in the catalogue render their
flaw (no closing tags, a legacy encoding, padding past the crawler's size limit).
"""

import json
from html import escape

from kestrel_local.demo_site.catalogue import Link, Page, SiteCatalogue


def render(catalogue: SiteCatalogue, page: Page) -> bytes:
    if page.body is not None:
        return page.body
    head = [
        f'<meta charset="{page.charset}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ]
    if page.title is not None:
        head.append(f"<title>{escape(page.title)}</title>")
    if page.description is not None:
        head.append(f'<meta name="description" content="{escape(page.description)}">')
    if page.robots:
        head.append(f'<meta name="robots" content="{escape(page.robots)}">')
    if page.canonical:
        head.append(f'<link rel="canonical" href="{escape(page.canonical)}">')
    head += [f'<link rel="alternate" hreflang="{lang}" href="{escape(url)}">' for lang, url in page.hreflang]
    og_title = page.title or (page.h1s[0] if page.h1s else catalogue.brand)
    og_type = {"product": "product", "article": "article", "guide": "article"}.get(page.kind, "website")
    head += [
        f'<meta property="og:site_name" content="{escape(catalogue.brand)}">',
        f'<meta property="og:type" content="{og_type}">',
        f'<meta property="og:title" content="{escape(og_title)}">',
        f'<meta property="og:url" content="{escape(catalogue.url(page.path))}">',
    ]
    if page.images:
        head.append(f'<meta property="og:image" content="{escape(catalogue.url(page.images[0].src))}">')
    head += [
        f'<script type="application/ld+json">{json.dumps(data, sort_keys=True, ensure_ascii=False)}</script>'
        for data in page.json_ld
    ]
    head.append('<link rel="stylesheet" href="/static/site.css">')
    html = (
        f'<!DOCTYPE html>\n<html lang="{page.lang}">\n<head>\n'
        + "\n".join(head)
        + "\n</head>\n<body>\n"
        + _header(catalogue)
        + "<main>\n<article>\n"
        + _content(page)
        + "</article>\n</main>\n"
        + _footer(catalogue)
        + "</body>\n</html>\n"
    )
    encoded = html.encode(page.charset, errors="xmlcharrefreplace")
    if len(encoded) < page.min_bytes:
        encoded = encoded.replace(
            b"</article>", _gear_table(catalogue, page.min_bytes - len(encoded)) + b"</article>", 1
        )
    return encoded


def _anchor(link: Link) -> str:
    rel = f' rel="{link.rel}"' if link.rel else ""
    return f'<a href="{escape(link.href)}"{rel}>{escape(link.text)}</a>'


def _header(catalogue: SiteCatalogue) -> str:
    items = "".join(f"<li>{_anchor(link)}</li>" for link in catalogue.navigation)
    return (
        '<header class="site-header">\n'
        f'<a class="logo" href="/"><img src="/images/logo.png" alt="{escape(catalogue.brand)}"></a>\n'
        '<form action="/search" method="get" role="search"><input name="q" placeholder="Search gear"></form>\n'
        f'<nav aria-label="Main"><ul>{items}</ul></nav>\n'
        "</header>\n"
    )


def _footer(catalogue: SiteCatalogue) -> str:
    columns = "".join(
        f"<section><h4>{escape(name)}</h4><ul>{''.join(f'<li>{_anchor(link)}</li>' for link in links)}</ul></section>"
        for name, links in catalogue.footer
    )
    return (
        f'<footer class="site-footer">\n{columns}\n'
        f"<p>Free delivery over £50 · 60-day returns · Repairs for life. © 2026 {escape(catalogue.brand)} Ltd.</p>\n"
        "</footer>\n"
    )


def _content(page: Page) -> str:
    close_p = "" if page.malformed else "</p>"
    parts = [f"<h1>{escape(h1)}</h1>\n" for h1 in page.h1s]
    headings = list(page.outline)
    for index, paragraph in enumerate(page.paragraphs):
        parts.append(f"<p>{escape(paragraph)}{close_p}\n")
        if index < len(headings):  # headings between paragraphs, in order; the rest follow
            level, text = headings[index]
            parts.append(f"<h{level}>{escape(text)}</h{level}>\n")
    parts += [f"<h{level}>{escape(text)}</h{level}>\n" for level, text in headings[len(page.paragraphs) :]]
    for image in page.images:
        alt = "" if image.alt is None else f' alt="{escape(image.alt)}"'
        parts.append(f'<img src="{escape(image.src)}"{alt} width="800" height="600" loading="lazy">\n')
    if page.links:
        items = "".join(f"<li>{_anchor(link)}</li>" for link in page.links)
        parts.append(f'<aside class="related"><ul>{items}</ul></aside>\n')
    if page.malformed:  # an unclosed <div> and <b> as well as the <p>s: parsers must recover
        parts.append('<div class="notes"><b>Note: these notes were typed up from a 2009 logbook.\n')
    return "".join(parts)


def _gear_table(catalogue: SiteCatalogue, size: int) -> bytes:
    """A table of every product, repeated, of at least ``size`` bytes."""
    rows = [
        f"<tr><td>{escape(page.h1s[0])}</td><td>{escape(page.description or '')}</td></tr>\n".encode()
        for page in catalogue.pages.values()
        if page.kind == "product"
    ]
    block = b"".join(rows)
    copies = size // len(block) + 1
    return b'<table class="gear-list">\n' + block * copies + b"</table>\n"
