"""The NLP service's tests: the app in-process (FastAPI's TestClient), S3 from a real moto server.

``nlp_service/`` goes on ``sys.path`` so that ``kestrel_nlp`` imports as it does in the
image. The spaCy pipelines load once per session (about a second) and every app built
by ``make_client`` shares them; the moto server starts once too, and each test gets its
own bucket.
"""

import os
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nlp_support import REGION, SERVICE_DIR

if str(SERVICE_DIR) not in sys.path:
    sys.path.insert(0, str(SERVICE_DIR))

import boto3
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from kestrel_nlp.app import create_app
from kestrel_nlp.pipeline import Pipelines, load_pipelines
from kestrel_nlp.settings import Settings


@pytest.fixture(scope="session")
def pipelines() -> Pipelines:
    return load_pipelines(Settings().spacy_model)


AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "nlp-tests",
    "AWS_SECRET_ACCESS_KEY": "nlp-tests",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def aws() -> Iterator[dict[str, str]]:
    """A moto server for the session; AWS_ENDPOINT_URL and fake credentials point boto3 at it."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    environment = AWS_ENVIRONMENT | {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {name: os.environ.get(name) for name in [*environment, "AWS_PROFILE", "AWS_SESSION_TOKEN"]}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(environment)
    yield environment
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def bucket(aws: dict[str, str]) -> str:
    """A fresh bucket for one test."""
    name = f"nlp-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture(scope="session")
def make_client(pipelines: Pipelines, aws: dict[str, str]) -> Iterator[Callable[..., TestClient]]:
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
