"""Entities as stored: a page's rows from the service's answer, and what replacing a page's rows changes in the
project's aggregates (pages and mentions per entity). Pure: the data layer applies the changes.

An entity is its (label, normalised form) within a project; its id is derived from them, so it is stable
whatever the order pages are analysed in, and comes back the same after the entity left every page.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the API reads entities without loading the service's client
    from shared.nlp.client import FoundEntity

_ENTITY_NAMESPACE = uuid.UUID("4f1f5a0e-2c1b-4d9e-9a57-6b6e4c7a1e21")


def entity_id(project_id: uuid.UUID, label: str, normalized: str) -> uuid.UUID:
    return uuid.uuid5(_ENTITY_NAMESPACE, f"{project_id}\x1f{label}\x1f{normalized}")


@dataclass(frozen=True)
class EntityRow:
    """An entity on one page, as ``page_entities`` holds it (with what the aggregate needs to create its row)."""

    entity_id: uuid.UUID
    label: str
    normalized: str
    text: str
    mentions: int
    first_offset: int


@dataclass(frozen=True)
class RemovedRow:
    """A page's row that a replacement deleted."""

    entity_id: uuid.UUID
    mentions: int


@dataclass(frozen=True)
class Delta:
    """How one entity's aggregate changes: pages and mentions gained (negative: lost)."""

    entity_id: uuid.UUID
    label: str | None  # None: the entity only lost rows (its aggregate exists)
    normalized: str | None
    text: str | None
    pages: int
    mentions: int


def page_rows(project_id: uuid.UUID, found: Iterable["FoundEntity"]) -> list[EntityRow]:
    """One row per entity of the page: a (label, normalised form) the answer lists twice is summed."""
    rows: dict[uuid.UUID, EntityRow] = {}
    for entity in found:
        if not entity.normalized or entity.mentions <= 0:
            continue
        key = entity_id(project_id, entity.label, entity.normalized)
        known = rows.get(key)
        if known is None:
            rows[key] = EntityRow(
                key, entity.label, entity.normalized, entity.text, entity.mentions, max(0, entity.first_offset)
            )
        else:
            first = entity if entity.first_offset < known.first_offset else known
            rows[key] = EntityRow(
                key,
                known.label,
                known.normalized,
                first.text,
                known.mentions + entity.mentions,
                max(0, min(known.first_offset, entity.first_offset)),
            )
    return list(rows.values())


def deltas(removed: Iterable[RemovedRow], added: Sequence[EntityRow]) -> list[Delta]:
    """The aggregates' changes when pages' ``removed`` rows are replaced by ``added``; entities whose pages and
    mentions do not change are left out. In entity id order (the order their rows are updated and locked)."""
    pages: dict[uuid.UUID, int] = {}
    mentions: dict[uuid.UUID, int] = {}
    described: dict[uuid.UUID, EntityRow] = {}
    for old in removed:
        pages[old.entity_id] = pages.get(old.entity_id, 0) - 1
        mentions[old.entity_id] = mentions.get(old.entity_id, 0) - old.mentions
    for new in added:
        pages[new.entity_id] = pages.get(new.entity_id, 0) + 1
        mentions[new.entity_id] = mentions.get(new.entity_id, 0) + new.mentions
        described.setdefault(new.entity_id, new)
    out = []
    for key in sorted(pages):
        if pages[key] == 0 and mentions[key] == 0:
            continue
        row = described.get(key)
        out.append(
            Delta(
                key,
                row.label if row else None,
                row.normalized if row else None,
                row.text if row else None,
                pages[key],
                mentions[key],
            )
        )
    return out
