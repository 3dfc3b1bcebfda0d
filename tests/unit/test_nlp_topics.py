"""Topics: the refit threshold, labels from top terms, the corpus file, the lists' cursors."""

import dataclasses
import gzip
import io
import json
import uuid
from typing import Any

import pytest

from shared.errors import InvalidRequest, PermanentError
from shared.nlp import cursors
from shared.nlp.corpus import corpus_key, models_prefix, read_distributions, write_lines
from shared.nlp.labels import NO_TERMS, topic_label
from shared.nlp.refit import RefitCheck, refit_due

QUIET = RefitCheck(analysable=100, changed=0, pending_events=0, crawl_running=False, fit_running=False)


def check(**changes: Any) -> RefitCheck:
    return dataclasses.replace(QUIET, **changes)


def test_a_first_model_is_fitted_once_there_are_enough_pages() -> None:
    assert refit_due(check(analysable=20, changed=20), threshold=0.1, min_documents=20)
    assert not refit_due(check(analysable=19, changed=19), threshold=0.1, min_documents=20)


def test_a_refit_needs_the_thresholds_share_of_pages_changed() -> None:
    assert not refit_due(check(changed=9), threshold=0.1, min_documents=20)
    assert refit_due(check(changed=10), threshold=0.1, min_documents=20)
    assert refit_due(check(changed=55), threshold=0.5, min_documents=20)


def test_no_refit_while_a_fit_or_the_crawl_runs_or_changes_wait() -> None:
    for busy in ({"fit_running": True}, {"crawl_running": True}, {"pending_events": 3}):
        assert not refit_due(check(changed=100, **busy), threshold=0.1, min_documents=20), busy


def test_a_label_is_the_top_terms_phrases_spelled_out() -> None:
    assert topic_label(["trail_running", "shoe", "salomon", "grip"]) == "trail running · shoe · salomon"


def test_a_label_skips_words_a_phrase_already_says_and_a_phrase_replaces_its_word() -> None:
    assert topic_label(["trail_running", "running", "trail", "shoe", "tent"]) == "trail running · shoe · tent"
    assert topic_label(["trail", "shoe", "trail_running", "tent"]) == "trail running · shoe · tent"
    assert topic_label([]) == NO_TERMS


def test_the_corpus_is_gzip_json_lines_and_the_same_pages_give_the_same_bytes() -> None:
    pages = [(uuid.UUID(int=n), f"Page {n} text about tents and stoves") for n in range(3)]
    first, second = io.BytesIO(), io.BytesIO()
    assert write_lines(pages, first) == 3
    write_lines(pages, second)
    assert first.getvalue() == second.getvalue()
    lines = gzip.decompress(first.getvalue()).decode().splitlines()
    assert json.loads(lines[1]) == {"id": str(uuid.UUID(int=1)), "text": "Page 1 text about tents and stoves"}


def test_keys_follow_the_buckets_layout() -> None:
    project, job = uuid.UUID(int=7), uuid.UUID(int=9)
    assert corpus_key("org_a", project, job) == f"nlp/corpora/org_a/{project}/{job}.jsonl.gz"
    assert models_prefix("org_a", project) == f"nlp/models/org_a/{project}/"


def test_distributions_are_read_line_by_line_and_a_bad_line_is_permanent() -> None:
    good = b'{"id": "a", "topics": [{"topic_id": 0, "weight": 0.8}, {"topic_id": 2, "weight": 0.2}]}\n\n'
    read = list(read_distributions(io.BytesIO(gzip.compress(good))))
    assert [(d.id, [(t.topic_id, t.weight) for t in d.topics]) for d in read] == [("a", [(0, 0.8), (2, 0.2)])]
    with pytest.raises(PermanentError, match="Line 3"):
        list(read_distributions(io.BytesIO(gzip.compress(good + b'{"id": 3}\n'))))


def test_cursors_round_trip_and_refuse_what_the_api_did_not_hand_out() -> None:
    key = (12, 40, uuid.UUID(int=5))
    assert cursors.decode(cursors.encode(*key), int, int, uuid.UUID) == key
    assert cursors.decode(cursors.encode(0.125, key[2]), float, uuid.UUID) == (0.125, key[2])
    for bad in ("not-base64!", cursors.encode("x", "y"), cursors.encode(1)):
        with pytest.raises(InvalidRequest):
            cursors.decode(bad, int, uuid.UUID)
