"""Entities as stored: ids stable per project, a page's rows from the answer, the aggregates' deltas."""

import uuid

from shared.nlp.aggregate import EntityRow, RemovedRow, deltas, entity_id, page_rows
from shared.nlp.client import FoundEntity

PROJECT = uuid.UUID("00000000-0000-4000-8000-000000000001")


def found(text: str, label: str, normalized: str, mentions: int = 1, offset: int = 0) -> FoundEntity:
    return FoundEntity(text=text, label=label, normalized=normalized, mentions=mentions, first_offset=offset)


def test_an_entity_id_is_its_project_label_and_normal_form() -> None:
    assert entity_id(PROJECT, "ORG", "salomon") == entity_id(PROJECT, "ORG", "salomon")
    assert entity_id(PROJECT, "ORG", "salomon") != entity_id(PROJECT, "PERSON", "salomon")
    assert entity_id(PROJECT, "ORG", "salomon") != entity_id(uuid.uuid4(), "ORG", "salomon")


def test_page_rows_merge_an_entity_listed_twice_and_drop_empty_ones() -> None:
    rows = page_rows(
        PROJECT,
        [
            found("Salomon", "ORG", "salomon", 2, 40),
            found("SALOMON", "ORG", "salomon", 1, 10),
            found("Hoka", "ORG", "hoka", 1, 5),
            found("", "ORG", "", 1, 0),
        ],
    )
    by_id = {row.entity_id: row for row in rows}
    assert len(rows) == 2
    salomon = by_id[entity_id(PROJECT, "ORG", "salomon")]
    assert (salomon.mentions, salomon.first_offset, salomon.text) == (3, 10, "SALOMON")


def row(normalized: str, mentions: int, label: str = "ORG") -> EntityRow:
    return EntityRow(entity_id(PROJECT, label, normalized), label, normalized, normalized.title(), mentions, 0)


def test_deltas_of_a_new_page_add_a_page_and_its_mentions() -> None:
    changes = deltas([], [row("salomon", 3), row("hoka", 1)])
    assert {(d.normalized, d.pages, d.mentions) for d in changes} == {("salomon", 1, 3), ("hoka", 1, 1)}


def test_deltas_of_a_changed_page_move_only_what_changed() -> None:
    removed = [RemovedRow(entity_id(PROJECT, "ORG", "salomon"), 3), RemovedRow(entity_id(PROJECT, "ORG", "msr"), 2)]
    added = [row("salomon", 3), row("hoka", 2)]
    changes = {d.entity_id: d for d in deltas(removed, added)}
    assert entity_id(PROJECT, "ORG", "salomon") not in changes  # the same on the page before and after
    msr = changes[entity_id(PROJECT, "ORG", "msr")]
    assert (msr.pages, msr.mentions, msr.label) == (-1, -2, None)
    hoka = changes[entity_id(PROJECT, "ORG", "hoka")]
    assert (hoka.pages, hoka.mentions, hoka.label) == (1, 2, "ORG")


def test_deltas_over_several_pages_sum_and_come_in_id_order() -> None:
    removed = [RemovedRow(entity_id(PROJECT, "ORG", "salomon"), 1)] * 2
    added = [row("salomon", 4)] * 3
    changes = deltas(removed, added)
    assert [(d.pages, d.mentions) for d in changes] == [(1, 10)]
    many = deltas([], [row(name, 1) for name in ("a", "b", "c", "d")])
    assert [d.entity_id for d in many] == sorted(d.entity_id for d in many)
