"""Reading the stack from the packaged local template: intrinsics resolved to local values (synthetic templates:
tests/unit/test_local_template_resolution.py)."""

import json
import os
import stat
import time
from pathlib import Path

import pytest

from kestrel_local.intrinsics import UNAVAILABLE
from kestrel_local.packaging import package_local_template, template_cache_key
from kestrel_local.resources import normalized_function_name
from kestrel_local.template import load_stack
from tests.support.local_stack import LOCAL_AUDIENCE, LOCAL_ISSUER, ROOT, local_template

ENDPOINT = "http://127.0.0.1:4566"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    secrets_dir = tmp_path_factory.mktemp("secrets")
    return load_stack(
        local_template(), stage="local", region="eu-west-1", secrets_dir=secrets_dir, endpoint_url=ENDPOINT
    )


def test_file_import_worker_is_read_from_the_template(stack):
    function = stack.functions["file_import"]
    assert function.logical_id == "FileUnderscoreimportLambdaFunction"
    assert function.physical_name == "kestrel-local-file_import"
    assert function.handler == "functions/file_import/handler.handler"
    assert (function.timeout_seconds, function.memory_mb, function.reserved_concurrency) == (300, 1024, 1)
    assert function.arn == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:kestrel-local-file_import"
    env = function.environment
    assert env["KESTREL_QUEUE_URL"] == f"{ENDPOINT}/{ACCOUNT}/kestrel-local-file-import"
    assert env["KESTREL_DLQ_URL"] == f"{ENDPOINT}/{ACCOUNT}/kestrel-local-file-import-dlq"
    assert env["KESTREL_UPLOADS_BUCKET"] == f"kestrel-local-uploads-{ACCOUNT}"
    assert env["KESTREL_DB_SECRET_ARN"] == f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:kestrel/local/db-app"
    assert env["KESTREL_DB_HOST"] == f"{UNAVAILABLE}DbProxy.Endpoint"
    assert stack.functions["db_migrate"].environment["KESTREL_DB_OWNER_SECRET_ARN"] == (
        f"{UNAVAILABLE}DbCluster.MasterUserSecret.SecretArn"
    )
    assert stack.functions["api_projects"].reserved_concurrency is None


def test_queue_redrives_to_its_dlq_and_drops_kms(stack):
    queue = stack.queues["FileImportQueue"]
    assert queue.dead_letter_queue == "FileImportDeadLetterQueue"
    assert json.loads(queue.attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:kestrel-local-file-import-dlq",
        "maxReceiveCount": 5,
    }
    assert queue.attributes["VisibilityTimeout"] == "1800"
    assert stack.queues["FileImportDeadLetterQueue"].attributes == {"MessageRetentionPeriod": "1209600"}
    assert not any("Kms" in key for q in stack.queues.values() for key in q.attributes)
    (source,) = [source for source in stack.event_sources if source.function == "file_import"]
    assert source.queue == "FileImportQueue"
    assert (source.batch_size, source.maximum_batching_window_seconds) == (10, 5)
    assert source.report_batch_item_failures
    assert source.maximum_concurrency is None


def test_routes_carry_their_jwt_authorizer_and_scopes(stack):
    routes = {route.route_key: route for route in stack.routes}
    assert routes["GET /v1/health"].authorizer is None
    listed = routes["GET /v1/projects"]
    assert listed.function == "api_projects"
    assert listed.scopes == ("read:projects",)
    assert listed.authorizer is not None
    assert listed.authorizer.issuer == LOCAL_ISSUER  # the --param `kestrel up` packages with
    assert listed.authorizer.audience == (LOCAL_AUDIENCE,)
    assert routes["POST /v1/projects/{project_id}/keyword-imports"].scopes == ("write:projects",)


def test_ops_alarms_topic_bucket_and_secret(stack, tmp_path):
    alarms = {alarm.logical_id: alarm for alarm in stack.alarms}
    depth = alarms["FileImportDlqDepthAlarm"]
    assert depth.dimensions == {"QueueName": "kestrel-local-file-import-dlq"}
    assert (depth.evaluation_periods, depth.datapoints_to_alarm, depth.threshold) == (1, 1, 1.0)
    assert depth.alarm_actions == depth.ok_actions == ("OpsTopic",)
    assert alarms["FileImportErrorsAlarm"].dimensions == {"FunctionName": "kestrel-local-file_import"}
    assert stack.topics["OpsTopic"].arn == f"arn:aws:sns:eu-west-1:{ACCOUNT}:kestrel-local-ops"
    assert [(s.topic, s.protocol, s.endpoint) for s in stack.subscriptions] == [
        ("OpsTopic", "email", "ops+local@kestrel.example")
    ]
    uploads = stack.buckets["UploadsBucket"]
    (notification,) = uploads.notifications
    assert (notification.queue, notification.events, notification.prefix) == (
        "FileImportQueue",
        ("s3:ObjectCreated:*",),
        "uploads/",
    )
    assert uploads.cors_rules[0]["ExposeHeaders"] == ["ETag"]
    assert uploads.cors_rules[0]["MaxAgeSeconds"] == 3000
    secret = json.loads(stack.secrets["DbAppSecret"].secret_string)
    assert secret["username"] == "kestrel_app"
    assert len(secret["password"]) == 40
    assert secret["password"].isalnum()


def test_generated_secrets_are_generated_once(tmp_path):
    def load():
        return load_stack(local_template(), stage="local", region="eu-west-1", secrets_dir=tmp_path)

    first = load().secrets["DbAppSecret"].secret_string
    assert load().secrets["DbAppSecret"].secret_string == first
    assert (tmp_path / "kestrel" / "local" / "db-app.json").exists()
    unsaved = load_stack(local_template(), stage="local", region="eu-west-1").secrets["DbAppSecret"]
    assert unsaved.secret_string != first


def test_every_reference_points_inside_the_stack():
    """Invariants that hold for any version of the template."""
    stack = load_stack(local_template(), stage="local", region="eu-west-1", endpoint_url=ENDPOINT)
    assert stack.functions
    assert stack.queues
    assert stack.routes
    for function in stack.functions.values():
        module = function.handler.rpartition(".")[0]
        assert (ROOT / f"{module}.py").exists(), function.handler
        assert normalized_function_name(function.name) + "LambdaFunction" == function.logical_id
    for queue in stack.queues.values():
        if queue.dead_letter_queue:
            assert json.loads(queue.attributes["RedrivePolicy"])["deadLetterTargetArn"] == (
                stack.queues[queue.dead_letter_queue].arn
            )
    for source in stack.event_sources:
        assert source.function in stack.functions
        assert stack.queues[source.queue].dead_letter_queue in stack.queues
        assert stack.functions[source.function].environment["KESTREL_QUEUE_URL"] == stack.queues[source.queue].url
    names = {queue.name for queue in stack.queues.values()}
    physical = {function.physical_name for function in stack.functions.values()}
    for alarm in stack.alarms:
        assert alarm.dimensions.get("QueueName", next(iter(names))) in names
        assert alarm.dimensions.get("FunctionName", next(iter(physical))) in physical
        assert set(alarm.alarm_actions) | set(alarm.ok_actions) <= set(stack.topics)
    for route in stack.routes:
        assert route.function in stack.functions
    for bucket in stack.buckets.values():
        assert all(notification.queue in stack.queues for notification in bucket.notifications)


# ---------------------------------------------------------------------------- packaging
def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "infra" / "resources").mkdir(parents=True)
    (root / "serverless.yml").write_text("service: x\n")
    (root / "package-lock.json").write_text("{}")
    (root / "infra" / "resources" / "a.yml").write_text("Resources: {}\n")
    return root


def _fake_npx(tmp_path: Path) -> Path:
    """An ``npx`` that records its arguments and environment and writes a template where --package says."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npx"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, pathlib, sys\n"
        "args = sys.argv[1:]\n"
        "out = pathlib.Path(args[args.index('--package') + 1])\n"
        "out.mkdir(parents=True, exist_ok=True)\n"
        "(out / 'cloudformation-template-update-stack.json').write_text(json.dumps({'Resources': {}, 'args': args}))\n"
        "with open(os.environ['FAKE_NPX_LOG'], 'a') as log:\n"
        "    log.write(json.dumps({'args': args, 'env': sorted(os.environ)}) + '\\n')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_packaging_runs_osls_once_then_reuses_the_cached_template(tmp_path, monkeypatch):
    root = _project(tmp_path)
    bin_dir = _fake_npx(tmp_path)
    log = tmp_path / "npx.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_NPX_LOG", str(log))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "must-not-leak")
    cache = tmp_path / "cache"

    template = package_local_template(root, params={"auth0IssuerUrl": "https://t.example/"}, cache_dir=cache)
    (call,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert call["args"][:6] == ["--no-install", "sls", "package", "--stage", "local", "--package"]
    assert "--param=auth0IssuerUrl=https://t.example/" in call["args"]
    assert not [name for name in call["env"] if name.startswith("AWS_")]
    assert {"SLS_TELEMETRY_DISABLED"} <= set(call["env"])
    assert template["args"] == call["args"]

    started = time.monotonic()
    again = package_local_template(root, params={"auth0IssuerUrl": "https://t.example/"}, cache_dir=cache)
    assert time.monotonic() - started < 1
    assert again == template
    assert len(log.read_text().splitlines()) == 1  # not packaged again


def test_the_cache_key_follows_every_input(tmp_path):
    root = _project(tmp_path)
    key = template_cache_key(root, {})
    assert template_cache_key(root, {}) == key
    assert template_cache_key(root, {"a": "b"}) != key
    (root / "infra" / "resources" / "a.yml").write_text("Resources: {X: {}}\n")
    changed = template_cache_key(root, {})
    assert changed != key
    (root / "serverless.yml").write_text("service: y\n")
    assert template_cache_key(root, {}) != changed
    (root / "package-lock.json").write_text('{"v": 2}')
    assert template_cache_key(root, {}) not in (key, changed)
