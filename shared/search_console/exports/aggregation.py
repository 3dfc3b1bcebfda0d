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

from shared.search_console.exports.bulk import BulkRow, RowValues


class RowAggregator:
    """Sums bulk rows sharing a gsc_rows key, one hash partition of keys in memory at a time.

    Rows are spilled to ``partitions`` gzip files (a JSON array of rows a line: rows come
    a batch at a time) by a stable hash (CRC-32) of their key, so one partition's keys
    fit in memory; each partition comes back sorted by key. The same file always gives
    the same rows in the same order, so a re-run of an import writes identical chunks.
    """

    def __init__(self, directory: Path, partitions: int) -> None:
        self.partitions = max(1, partitions)
        self._paths = [directory / f"partition-{n:04d}.json-lines.gz" for n in range(self.partitions)]
        # Open for the aggregator's whole life (closed by ``close``/``rows``), hence no context manager.
        self._spills = [gzip.open(path, "wb", compresslevel=1) for path in self._paths]  # noqa: SIM115
        self.added = 0
        self.distinct = 0

    def add(self, row: BulkRow | RowValues) -> None:
        self.add_many([tuple(row)])  # type: ignore[list-item]

    def add_many(self, rows: list[RowValues]) -> None:
        """Add a batch of rows (``bulk.BulkBatch.rows``): one JSON array per partition, a line of its spill."""
        if not rows:
            return
        if self.partitions == 1:
            self._spills[0].write(orjson.dumps(rows, option=orjson.OPT_APPEND_NEWLINE))
        else:
            parts: list[list[RowValues]] = [[] for _ in self._spills]
            partitions = self.partitions
            for row in rows:
                parts[zlib.crc32("\x1f".join(row[:6]).encode()) % partitions].append(row)
            for spill, part in zip(self._spills, parts, strict=True):
                if part:
                    spill.write(orjson.dumps(part, option=orjson.OPT_APPEND_NEWLINE))
        self.added += len(rows)

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
                    for *key, clicks, impressions, sum_position in orjson.loads(line):
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
