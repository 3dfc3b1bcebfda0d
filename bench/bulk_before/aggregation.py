"""Summing bulk export rows per gsc_rows key before they become chunks.

Search Console writes repeated keys (it accumulates data incrementally, and rows
also differ in columns Kestrel does not keep), so rows are summed per gsc_rows
key by ``RowAggregator``.
"""

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from bench.bulk_before.bulk import BulkRow


class RowAggregator:
    """Sums bulk rows sharing a gsc_rows key, one hash partition of keys in memory at a time.

    Rows are spilled to ``partitions`` gzip files by a stable hash (CRC-32) of their
    key, so one partition's keys fit in memory; each partition comes back sorted by
    key. The same file always gives the same rows in the same order, so a re-run of
    an import writes identical chunks.
    """

    def __init__(self, directory: Path, partitions: int) -> None:
        self.partitions = max(1, partitions)
        self._paths = [directory / f"partition-{n:04d}.ndjson.gz" for n in range(self.partitions)]
        # Open for the aggregator's whole life (closed by ``close``/``rows``), hence no context manager.
        self._spills = [gzip.open(path, "wb", compresslevel=1) for path in self._paths]  # noqa: SIM115
        self.added = 0
        self.distinct = 0

    def add(self, row: BulkRow) -> None:
        key = "\x1f".join(row[:6]).encode()
        line = orjson.dumps(tuple(row), option=orjson.OPT_APPEND_NEWLINE)
        self._spills[zlib.crc32(key) % self.partitions].write(line)
        self.added += 1

    def close(self) -> None:
        for spill in self._spills:
            spill.close()

    def rows(self) -> Iterator[dict[str, Any]]:
        """The summed rows as chunk rows (gsc_chunks.ROW_FIELDS); average position = sum_position / impressions + 1."""
        self.close()
        self.distinct = 0
        for path in self._paths:
            totals: dict[tuple[str, ...], list[float]] = {}
            with gzip.open(path, "rb") as spill:
                for line in spill:
                    *key, clicks, impressions, sum_position = orjson.loads(line)
                    found = totals.get(tuple(key))
                    if found is None:
                        totals[tuple(key)] = [clicks, impressions, sum_position]
                    else:
                        found[0] += clicks
                        found[1] += impressions
                        found[2] += sum_position
            path.unlink()
            self.distinct += len(totals)
            for key in sorted(totals):
                clicks, impressions, sum_position = totals.pop(key)
                yield {
                    "date": key[0],
                    "search_type": key[1],
                    "query": key[2],
                    "page": key[3],
                    "country": key[4],
                    "device": key[5],
                    "clicks": int(clicks),
                    "impressions": int(impressions),
                    "ctr": clicks / impressions,
                    "position": sum_position / impressions + 1,
                }
