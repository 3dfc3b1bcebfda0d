"""What the crawl library costs per page and per audit: extract_page on a realistic 60 KB page, audit on 10k pages.

Medians throughout; the machine is shared and noisy. The last line is machine-readable.

    PYTHONPATH=. .venv/bin/python bench/bench_crawl.py
"""

import dataclasses
import json
import statistics
import time

from shared.crawl.audit import AuditLink, AuditPage, audit
from shared.crawl.extract import extract_page

SITE = "https://demo.example.com"


def realistic_page(size: int = 60_000) -> bytes:
    """A shop guide page: head metadata and JSON-LD, a mega-menu, an article, related products, a footer."""
    nav = "".join(
        f'<li><a href="/c/{n}">Category {n}</a><ul>'
        + "".join(f'<li><a href="/c/{n}/{m}">Sub {m}</a></li>' for m in range(8))
        + "</ul></li>"
        for n in range(12)
    )
    article = "".join(
        f"<h2>Section {n}</h2><p>"
        + " ".join(
            f"Trail shoes need grip and protection on rough ground, point {n}.{k}, see <a href='/g/{n}/{k}'>this</a>."
            for k in range(6)
        )
        + f"</p><img src='/i/{n}.jpg'{' alt="x"' if n % 2 else ''}>"
        for n in range(75)
    )
    related = "".join(
        f'<div class="card"><a href="/p/{n}"><img src="/p/{n}.jpg" alt="Shoe {n}"></a><span>€{n}9.00</span></div>'
        for n in range(40)
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trail running shoes: a guide</title>
<meta name="description" content="How to choose trail running shoes."><link rel="canonical" href="{SITE}/guide">
<link rel="alternate" hreflang="de" href="{SITE}/de/guide"><meta property="og:title" content="Guide">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Article","author":{{"@type":"Person"}}}}</script>
<script>window.dataLayer=[];function gtag(){{dataLayer.push(arguments)}}</script><style>body{{margin:0}}</style></head>
<body><header><nav><ul>{nav}</ul></nav></header><main><article><h1>Trail running shoes</h1>{article}</article>
<aside>{related}</aside></main><footer>{"<a href='/legal'>Legal</a> " * 30}</footer></body></html>"""
    data = page.encode()
    return data + b"<!--" + b" " * max(0, size - len(data) - 7) + b"-->"


def bench_extract(runs: int = 40) -> float:
    body = realistic_page()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        extract_page(
            body,
            url=f"{SITE}/guide",
            header_charset="utf-8",
            link_header=None,
            x_robots_tag=None,
            is_internal=lambda url: url.startswith(SITE),
        )
        timings.append((time.perf_counter() - started) * 1000)
    print(f"extract_page on {len(body) / 1000:.0f} KB: median {statistics.median(timings):.1f} ms")
    return statistics.median(timings)


def bench_audit(runs: int = 5) -> float:
    template = AuditPage(
        url="",
        status=200,
        redirects=(),
        redirect_loop=False,
        content_type="text/html",
        error_code=None,
        truncated=False,
        blocked=False,
        indexable=True,
        indexability_reason="indexable",
        title="A title",
        meta_description="A description",
        h1s=("H1",),
        word_count=150,
        canonical=None,
        noindex=False,
        hreflang=(),
        in_sitemap=True,
        in_search_console=False,
        inlinks=1,
        response_ms=300.0,
    )
    pages = [
        dataclasses.replace(
            template,
            url=f"{SITE}/p{n}",
            status=404 if n % 100 == 0 else 200,
            title=f"Title of page number {n}",
            hreflang=(("en", f"{SITE}/p{n + 1}"),),
        )
        for n in range(10_000)
    ]
    links = [AuditLink(f"{SITE}/p{n % 10_000}", f"{SITE}/p{(n * 7) % 10_000}") for n in range(500_000)]
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        findings = audit(pages, links)
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"audit of 10,000 pages and 500,000 links: median {statistics.median(timings):.0f} ms, {len(findings)} findings"
    )
    return statistics.median(timings)


if __name__ == "__main__":
    extract_ms = bench_extract()
    audit_ms = bench_audit()
    print(json.dumps({"extract_ms_p50": round(extract_ms, 1), "audit_10k_500k_ms_p50": round(audit_ms)}))
