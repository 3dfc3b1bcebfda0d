"""The local stack's parts (kestrel_local) against the AWS emulator: no PostgreSQL.

Every test runs in a process whose AWS SDK reaches the shared moto server (as the local stack's own
clients do) with dummy credentials; tests that provision resources take ``moto`` for its endpoint.
"""

import pytest

from kestrel_local.moto_server import MotoServer
from tests.support.services import aws_emulator, moto

__all__ = ["aws_emulator", "moto"]  # fixtures of tests/support/services.py this suite uses


@pytest.fixture(scope="session", autouse=True)
def emulated_aws(aws_emulator: MotoServer) -> MotoServer:
    return aws_emulator
