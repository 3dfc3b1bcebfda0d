"""Packages the Serverless stacks once per session and hands the tests the CloudFormation templates.

``npx sls package --stage <stage> --package <tmp>`` runs offline with no AWS credentials: the
environment handed to it has every ``AWS_*`` variable removed. serverless-python-requirements
fetches manylinux wheels with pip (PyPI) the first time and reuses its static cache afterwards.
"""

from collections.abc import Iterator

import pytest

from tests.packaging.sls import STAGES, PackagedStage, package_stage
from tests.support.settings import unreachable_settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "packaging: packages the Serverless stacks and checks the CloudFormation templates"
    )


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PackagedStage]:
    """Both stages, packaged one after the other (osls wipes the shared .serverless/ on start)."""
    return {stage: package_stage(stage, tmp_path_factory.mktemp(f"package-{stage}")) for stage in STAGES}


@pytest.fixture(params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def pkg(packaged: dict[str, PackagedStage], stage: str) -> PackagedStage:
    return packaged[stage]


@pytest.fixture(scope="session", autouse=True)
def settings_of_no_real_resource() -> Iterator[None]:
    """The handlers whose routes are read check their settings on import."""
    with unreachable_settings():
        yield
