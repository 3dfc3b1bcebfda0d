"""The NLP service's tests: the app in-process (FastAPI's TestClient), S3 from a real moto server.

``nlp_service/`` goes on ``sys.path`` so that ``kestrel_nlp`` imports as it does in the
image. The spaCy pipelines load once per session (about a second) and every app built
by ``make_client`` shares them; the moto server starts once too, and each test gets its
own bucket.
"""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[1]
if str(SERVICE_DIR) not in sys.path:
    sys.path.insert(0, str(SERVICE_DIR))

from fastapi.testclient import TestClient  # noqa: E402

from kestrel_nlp.app import create_app  # noqa: E402
from kestrel_nlp.pipeline import Pipelines, load_pipelines  # noqa: E402
from kestrel_nlp.settings import Settings  # noqa: E402

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def pipelines() -> Pipelines:
    return load_pipelines(Settings().spacy_model)


@pytest.fixture(scope="session")
def make_client(pipelines: Pipelines) -> Iterator[Callable[..., TestClient]]:
    """``make_client(max_documents=3)``: an app with those settings over the session's pipelines."""
    clients: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        client = TestClient(create_app(Settings(**settings), pipelines=pipelines), raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
