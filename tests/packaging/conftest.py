"""Packages the Serverless stacks once per session and hands the tests the CloudFormation templates.

``npx sls package --stage <stage> --package <tmp>`` runs offline with no AWS credentials: the
environment handed to it has every ``AWS_*`` variable removed. serverless-python-requirements
fetches manylinux wheels with pip (PyPI) the first time and reuses its static cache afterwards.
"""

import pytest

from tests.packaging.sls import STAGES, PackagedStage, package_stage


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
