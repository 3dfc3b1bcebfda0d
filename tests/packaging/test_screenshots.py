"""serp_screenshot in the packaged stacks: the image-based function and its parameters, in dev and prod.

A container-image Lambda (Chromium and Playwright exceed the 250 MB zip limit) whose image URI is the stage
parameter ``screenshotImageUri`` (a placeholder when packaging: no Docker, no AWS), running the command the
Dockerfile's CMD names, with at least 2,048 MB, the issue's reserved concurrency (prod 15, dev 2), a bucket
whose lifecycle expires ``screenshots/`` after the retention the function is told, and write access to that
prefix only. Values come from serverless.yml as osls resolved it for the stage.
"""

import json
import re
import subprocess
import zipfile
from typing import Any

import pytest

from tests.packaging.sls import ROOT, PackagedStage
from tests.packaging.template import environment_of, function_resources, granted, role_of, role_statements

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

NAME = "serp_screenshot"
DOCKERFILE = ROOT / "images" / "serp_screenshot" / "Dockerfile"
CONCURRENCY = {"dev": 2, "prod": 15}  # the issue's
MIN_MEMORY_MB = 2048
DIGEST_URI = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+@sha256:[a-f0-9]{64}$")


def props(pkg: PackagedStage) -> dict[str, Any]:
    properties: dict[str, Any] = function_resources(pkg)[NAME]["Properties"]
    return properties


def test_the_function_runs_the_stages_image_by_digest(pkg: PackagedStage) -> None:
    properties = props(pkg)
    assert properties["PackageType"] == "Image"
    assert "Handler" not in properties
    assert "Runtime" not in properties
    uri = pkg.params["screenshotImageUri"]
    assert properties["Code"] == {"ImageUri": uri}
    assert DIGEST_URI.match(uri), uri  # a tag would make packaging call ECR
    assert properties["Architectures"] == [pkg.config["provider"]["architecture"]]


def test_the_images_command_is_the_dockerfiles_and_names_the_handler(pkg: PackagedStage) -> None:
    [command] = props(pkg)["ImageConfig"]["Command"]
    assert command == "functions/serp_screenshot/handler.handler"
    module = command.rpartition(".")[0]
    assert (ROOT / f"{module}.py").is_file()
    dockerfile = DOCKERFILE.read_text()
    assert f'CMD ["{command}"]' in dockerfile
    # The Lambda Python base image of the provider's runtime (python3.12), so the image runs what the zips run.
    version = pkg.config["provider"]["runtime"].removeprefix("python")
    assert f"FROM public.ecr.aws/lambda/python:{version}" in dockerfile


def test_memory_timeout_and_concurrency_are_the_issues(pkg: PackagedStage) -> None:
    properties = props(pkg)
    assert properties["MemorySize"] >= MIN_MEMORY_MB
    assert properties["MemorySize"] == pkg.functions[NAME]["memorySize"]
    assert properties["ReservedConcurrentExecutions"] == CONCURRENCY[pkg.stage]
    assert pkg.params["serpScreenshotConcurrency"] == CONCURRENCY[pkg.stage]
    assert properties["Timeout"] == pkg.functions[NAME]["timeout"]


def test_chromium_is_where_the_image_unpacks_it(pkg: PackagedStage) -> None:
    path = environment_of(pkg, NAME)["KESTREL_CHROMIUM_PATH"]
    directory = path.rpartition("/")[0]
    assert path.endswith("/chromium")
    assert f"node scripts/chromium-path.mjs {directory}" in DOCKERFILE.read_text()
    assert f"{directory}/al2023/lib" in DOCKERFILE.read_text()  # Amazon Linux's missing libraries


def test_screenshots_expire_after_the_retention_the_function_is_told(pkg: PackagedStage) -> None:
    bucket = pkg.resources["ScreenshotsBucket"]["Properties"]
    [rule] = bucket["LifecycleConfiguration"]["Rules"]
    environment = environment_of(pkg, NAME)
    assert environment["KESTREL_SCREENSHOTS_BUCKET"] == {"Ref": "ScreenshotsBucket"}
    days = pkg.params["screenshotRetentionDays"]
    assert rule["ExpirationInDays"] == days
    assert int(environment["KESTREL_SCREENSHOT_RETENTION_DAYS"]) == days
    assert rule["Prefix"] == "screenshots/"  # the worker's keys: screenshots/<tenant>/...


def test_the_worker_writes_only_screenshots_and_reads_only_the_dataforseo_login(pkg: PackagedStage) -> None:
    grants = granted(role_statements(role_of(pkg, NAME)[1]))
    [(action, resource)] = {(action, resource) for action, resource in grants if action.startswith("s3:")}
    assert action == "s3:PutObject"
    assert "${ScreenshotsBucket}/screenshots/*" in resource
    secrets = {resource for action, resource in grants if action == "secretsmanager:GetSecretValue"}
    assert any(pkg.params["dataforseoSecretName"] in resource for resource in secrets)


def test_the_lambda_zip_holds_no_browser_automation(pkg: PackagedStage) -> None:
    """Playwright is the image's (images/serp_screenshot/requirements.txt), never the zip functions'."""
    assert "playwright" not in (ROOT / "requirements.txt").read_text().lower()
    with zipfile.ZipFile(pkg.directory / "kestrel.zip") as archive:
        tops = {name.split("/", 1)[0].lower() for name in archive.namelist()}
    assert not [top for top in tops if top.startswith("playwright")]


# ---------------------------------------------------------------- deploying needs an image

IMAGE_URI_DRIVER = """
const { resolveUri } = require(process.argv[1]);
const [options, argv] = JSON.parse(process.argv[2]);
try { console.log(JSON.stringify({ uri: resolveUri(options, argv) })); }
catch (error) { console.log(JSON.stringify({ error: error.message })); }
"""


def resolve_image_uri(options: dict[str, Any], argv: list[str]) -> dict[str, str]:
    result = subprocess.run(
        ["node", "-e", IMAGE_URI_DRIVER, str(ROOT / "infra" / "screenshot-image.js"), json.dumps([options, argv])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome: dict[str, str] = json.loads(result.stdout)
    return outcome


def test_a_stack_deploy_needs_the_image_by_digest_packaging_does_not(packaged: dict[str, PackagedStage]) -> None:
    [placeholder] = {pkg.params["screenshotImageUri"] for pkg in packaged.values()}
    assert resolve_image_uri({}, ["package", "--stage", "prod"]) == {"uri": placeholder}
    assert resolve_image_uri({}, ["deploy", "function", "-f", "api_projects"]) == {"uri": placeholder}
    image = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/kestrel-prod-screenshots@sha256:{'a' * 64}"
    given = {"param": ["nlpImageTag=abc", f"screenshotImageUri={image}"]}
    assert resolve_image_uri(given, ["deploy", "--stage", "prod"]) == {"uri": image}
    refused = resolve_image_uri({"stage": "prod"}, ["deploy", "--stage", "prod"])
    assert '--param="screenshotImageUri=' in refused["error"]
    tagged = {"param": ["screenshotImageUri=123456789012.dkr.ecr.eu-west-1.amazonaws.com/kestrel-prod-screenshots:abc"]}
    assert "by digest" in resolve_image_uri(tagged, ["deploy"])["error"]


def test_the_deploy_workflow_builds_pushes_and_deploys_the_image_by_digest() -> None:
    workflow = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    assert "file: images/serp_screenshot/Dockerfile" in workflow
    assert "kestrel-${STAGE}-screenshots" in workflow
    deploys = [line for line in workflow.splitlines() if "sls deploy" in line]
    assert deploys
    assert all('--param="screenshotImageUri=${SCREENSHOT_IMAGE_URI}"' in line for line in deploys), deploys
