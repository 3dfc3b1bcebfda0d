"""The real NLP service for the suites that run the NLP workers: started once per session.

The same package `kestrel up` runs (``kestrel_local.nlp_service.NlpServiceProcess``: ``python -m
kestrel_nlp`` from this venv), on a free port, reaching the session's moto server for S3 with its
dummy credentials. Its log goes to ``.state/test-nlp-service.log`` (quoted when it fails to start).
"""

from collections.abc import Iterator

import pytest

from kestrel_local.moto_server import MotoServer, free_port
from kestrel_local.nlp_service import NlpServiceProcess
from tests.support.services import REGION, ROOT

START_TIMEOUT_SECONDS = 120.0  # spaCy loads in seconds; a cold disk and two busy cores take longer


@pytest.fixture(scope="session")
def nlp_service(moto: MotoServer) -> Iterator[NlpServiceProcess]:
    environment = {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    service = NlpServiceProcess(
        host="127.0.0.1", port=free_port(), environment=environment, log_path=ROOT / ".state" / "test-nlp-service.log"
    )
    service.start(timeout=START_TIMEOUT_SECONDS)
    yield service
    service.stop()
