"""The service as a process, as `kestrel up` and the benchmark run it: kestrel_local.nlp_service."""

import json
from pathlib import Path

import httpx
import pytest

from kestrel_local.moto_server import free_port
from kestrel_local.nlp_service import NlpServiceProcess


def test_the_launcher_starts_the_service_and_waits_for_ready(tmp_path: Path) -> None:
    log_path = tmp_path / "nlp.log"
    service = NlpServiceProcess(host="127.0.0.1", port=free_port(), log_path=log_path).start()
    try:
        assert service.ready_seconds is not None
        assert service.ready_seconds > 0
        assert httpx.get(f"{service.url}/ready").status_code == 200
        response = httpx.post(
            f"{service.url}/v1/entities", json={"documents": [{"id": "1", "text": "Salomon in Annecy."}]}
        )
        labels = {(e["normalized"], e["label"]) for e in response.json()["documents"][0]["entities"]}
        assert ("annecy", "GPE") in labels
    finally:
        service.stop()
    assert service.process is not None
    assert service.process.poll() is not None
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]  # every line is a JSON object
    assert any(line["message"] == "Pipeline loaded" and line["pipeline"]["version"] == "3.8.0" for line in lines)
    assert any(line["logger"] == "uvicorn.access" and "POST /v1/entities" in line["message"] for line in lines)


def test_a_service_that_cannot_start_raises_with_its_log(tmp_path: Path) -> None:
    bad = NlpServiceProcess(
        host="127.0.0.1",
        port=free_port(),
        environment={"KESTREL_NLP_MAX_DOCUMENTS": "0"},
        log_path=tmp_path / "bad-settings.log",
    )
    with pytest.raises(
        RuntimeError,
        match=r"exited with 2 (?s:.*)KESTREL_NLP_MAX_DOCUMENTS: Input should be greater than or equal to 1",
    ):
        bad.start(timeout=30)

    missing = NlpServiceProcess(
        host="127.0.0.1",
        port=free_port(),
        environment={"KESTREL_NLP_SPACY_MODEL": "no_such_pipeline"},
        log_path=tmp_path / "no-model.log",
    )
    with pytest.raises(RuntimeError, match=r"exited with 3 (?s:.*)Can't find model 'no_such_pipeline'"):
        missing.start(timeout=30)
