"""Parsing a Search Console bulk export: the current parser beside the one it replaced, in the same run.

A synthetic ``searchdata_url_impression`` export (every column of the table as
BigQuery exports it, 41 of them; 200,000 lines by default: 28 days, one site,
14 countries, three devices, 20% anonymized queries, sum_position with 0 to 6
decimals, and one line in a thousand broken in one of the ways real files are)
is written to a temporary file (not timed), then parsed in rounds that alternate:

* ``before``: the parser as it was (``bench/bulk_before``, a frozen copy),
  line by line through ``read_bulk_export``, as the importer read it;
* ``now``: ``shared.search_console.exports.bulk.read_bulk_batches``, what the
  importer reads now;
* ``spill before`` and ``spill now``: the split's whole first pass, each parser
  with the spill of valid rows to local disk of its time (row by row before,
  a batch at a time now; one partition, gzip level 1 both).

Both must give the same rows and the same errors (line numbers and reasons),
checked before timing. Wall and CPU time per line are measured in each round;
medians are quoted (the machine is shared: CPU time is the steadier figure, and
``vs_before`` is the ratio of median CPU times). The last line is
machine-readable.

    make bench-bulk-parse                 # or: python -m bench.bench_bulk_parse --rows 1000000 --gzip
"""

import argparse
import datetime as dt
import gzip
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bulk_before import bulk as before
from bench.bulk_before.aggregation import RowAggregator as RowAggregatorBefore
from shared.search_console.exports import bulk as now
from shared.search_console.exports.aggregation import RowAggregator
from shared.search_console.exports.csv_text import buffered

SITE = "https://www.bench-outdoor.example.com/"
TODAY = dt.date(2026, 12, 1)
ROWS = 200_000
REPEATS = 5
FLAGS = (
    "is_amp_top_stories",
    "is_amp_blue_link",
    "is_job_listing",
    "is_job_details",
    "is_tpf_qa",
    "is_tpf_faq",
    "is_tpf_howto",
    "is_weblite",
    "is_action",
    "is_events_listing",
    "is_events_details",
    "is_search_appearance_android_app",
    "is_amp_story",
    "is_amp_image_result",
    "is_video",
    "is_organic_shopping",
    "is_review_snippet",
    "is_special_announcement",
    "is_recipe_feature",
    "is_recipe_rich_snippet",
    "is_subscribed_content",
    "is_page_experience",
    "is_practice_problems",
    "is_math_solvers",
    "is_translated_result",
    "is_edu_q_and_a",
    "is_product_snippets",
    "is_merchant_listings",
    "is_learning_videos",
)
COLUMNS = (
    "data_date",
    "site_url",
    "url",
    "query",
    "is_anonymized_query",
    "is_anonymized_discover",
    "country",
    "search_type",
    "device",
    *FLAGS,
    "impressions",
    "clicks",
    "sum_position",
)
WORDS = [
    "running",
    "shoes",
    "trail",
    "boots",
    "hiking",
    "socks",
    "waterproof",
    "jacket",
    "best",
    "cheap",
    "women",
    "men",
    "kids",
    "review",
    "size",
    "guide",
]
COUNTRIES = ("usa", "deu", "gbr", "fra", "esp", "ita", "nld", "pol", "jpn", "kor", "chn", "can", "aus", "bra")
BROKEN = (  # (column, value): one in a thousand lines, each rejected with its reason
    ("country", "US"),
    ("device", "PHONE"),
    ("impressions", "0"),
    ("clicks", "n/a"),
    ("data_date", "2027-01-01"),
    ("search_type", "SHOPPING"),
    ("sum_position", "-3"),
)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def export_text(rows: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    lines = [",".join(COLUMNS)]
    index = {column: n for n, column in enumerate(COLUMNS)}
    for n in range(rows):
        anonymized = rnd.random() < 0.2
        impressions = rnd.randint(1, 500)
        values = [
            f"2026-09-{1 + n * 28 // rows:02d}",
            SITE,
            f"{SITE}p/{rnd.randint(1, 3000)}/",
            "" if anonymized else " ".join(rnd.sample(WORDS, rnd.randint(1, 4))),
            "true" if anonymized else "false",
            "false",
            rnd.choice(COUNTRIES),
            "WEB",
            rnd.choice(("DESKTOP", "MOBILE", "TABLET")),
            *(["false"] * len(FLAGS)),
            str(impressions),
            str(rnd.randint(0, impressions // 10)),
            str(round(impressions * rnd.uniform(0, 30), rnd.choice((0, 1, 2, 3, 6)))),
        ]
        if n % 1000 == 999:
            column, value = BROKEN[(n // 1000) % len(BROKEN)]
            values[index[column]] = value
        lines.append(",".join(f'"{value}"' if "," in value else value for value in values))
    return "\n".join(lines) + "\n"


def parse_before(path: Path, collect: bool = False) -> tuple[int, list[Any], list[tuple[int, str]]]:
    """The old parser, line by line as the importer read it; the rows and errors only when ``collect``."""
    rows: list[Any] = []
    errors: list[tuple[int, str]] = []
    lines = 0
    with path.open("rb") as body:
        for parsed in before.read_bulk_export(buffered(body), site_url=SITE, today=TODAY):
            lines += not parsed.last
            if collect:
                if parsed.row is None:
                    errors.append((parsed.line, parsed.error or ""))
                else:
                    rows.append(tuple(parsed.row))
    return lines, rows, errors


def parse_now(path: Path, collect: bool = False) -> tuple[int, list[Any], list[tuple[int, str]]]:
    """The parser as the importer reads it now, in batches; the rows and errors only when ``collect``."""
    rows: list[Any] = []
    errors: list[tuple[int, str]] = []
    lines = 0
    with path.open("rb") as body:
        for batch in now.read_bulk_batches(buffered(body), site_url=SITE, today=TODAY):
            lines += batch.lines
            if collect:
                rows += [tuple(row) for row in batch.rows]
                errors += [(error.line, error.error or "") for error in batch.errors]
    return lines, rows, errors


def spill_before(path: Path) -> tuple[int, list[Any], list[Any]]:
    """The split's first pass as the importer ran it: each line parsed, each row spilled on its own."""
    lines = 0
    with tempfile.TemporaryDirectory(prefix="bench-spill-") as directory, path.open("rb") as body:
        aggregator = RowAggregatorBefore(Path(directory), 1)
        for parsed in before.read_bulk_export(buffered(body), site_url=SITE, today=TODAY):
            lines += not parsed.last
            if parsed.row is not None:
                aggregator.add(parsed.row)
        aggregator.close()
    return lines, [], []


def spill_now(path: Path) -> tuple[int, list[Any], list[Any]]:
    """The split's first pass as the importer runs it now: batches of lines, each batch's rows spilled at once."""
    lines = 0
    with tempfile.TemporaryDirectory(prefix="bench-spill-") as directory, path.open("rb") as body:
        aggregator = RowAggregator(Path(directory), 1)
        for batch in now.read_bulk_batches(buffered(body), site_url=SITE, today=TODAY):
            lines += batch.lines
            aggregator.add_many(batch.rows)
        aggregator.close()
    return lines, [], []


def timed(parse: Callable[[Path], tuple[int, list[Any], list[Any]]], path: Path) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    lines, _, _ = parse(path)
    return time.perf_counter() - wall, time.process_time() - cpu, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="data lines in the export")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="rounds of each parser (medians quoted)")
    parser.add_argument("--gzip", action="store_true", help="parse a gzip CSV instead of a plain one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-bulk-parse-") as directory:
        path = Path(directory) / ("export.csv.gz" if args.gzip else "export.csv")
        text = export_text(args.rows).encode()
        path.write_bytes(gzip.compress(text, compresslevel=6) if args.gzip else text)
        say(f"{args.rows:,} lines, {len(COLUMNS)} columns, {path.stat().st_size / 1e6:.1f} MB ({path.name})")

        old, new = parse_before(path, collect=True), parse_now(path, collect=True)
        if old != new:
            raise SystemExit("the parsers disagree: rows or errors differ")
        say(f"same {len(new[1]):,} rows and {len(new[2]):,} errors from both parsers")

        steps = (("before", parse_before), ("now", parse_now), ("spill before", spill_before), ("spill now", spill_now))
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _ in steps}
        for round_ in range(args.repeats):
            for name, parse in steps:
                results[name].append(timed(parse, path))
                wall, cpu, lines = results[name][-1]
                say(
                    f"round {round_ + 1} {name:12}: {wall * 1e6 / lines:6.2f} µs/line wall, {cpu * 1e6 / lines:.2f} CPU"
                )

    lines = results["now"][0][2]
    median = {
        name: (statistics.median(r[0] for r in runs) / lines, statistics.median(r[1] for r in runs) / lines)
        for name, runs in results.items()
    }
    (before_wall, before_cpu), (now_wall, now_cpu) = median["before"], median["now"]
    (spill_before_wall, spill_before_cpu), (spill_now_wall, spill_now_cpu) = median["spill before"], median["spill now"]
    say(
        f"the split's first pass (parse and spill): before {spill_before_wall * 1e6:.2f} µs/line wall"
        f" ({spill_before_cpu * 1e6:.2f} CPU), now {spill_now_wall * 1e6:.2f} ({spill_now_cpu * 1e6:.2f} CPU):"
        f" {spill_before_cpu / spill_now_cpu:.2f}x by CPU time"
    )
    say(
        f"medians of {args.repeats}: before {before_wall * 1e6:.2f} µs/line wall ({before_cpu * 1e6:.2f} CPU),"
        f" now {now_wall * 1e6:.2f} ({now_cpu * 1e6:.2f} CPU): {before_cpu / now_cpu:.2f}x by CPU time,"
        f" {before_wall / now_wall:.2f}x by wall time"
    )
    print(
        f"bench-bulk-parse rows_per_s={1 / now_cpu:.0f} vs_before={before_cpu / now_cpu:.2f}"
        f" us_per_row={now_cpu * 1e6:.2f} before_us_per_row={before_cpu * 1e6:.2f}"
        f" wall_vs_before={before_wall / now_wall:.2f} split_pass_vs_before={spill_before_cpu / spill_now_cpu:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
