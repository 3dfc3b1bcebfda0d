"""db_migrate as CloudFormation runs it: a custom resource event, credentials from Secrets Manager, answer by PUT."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kestrel_local.lambda_context import LocalLambdaContext
from kestrel_local.postgres import drop_database, provision
from shared.db import make_engine
from shared.health import migration_head


class CloudFormationResponses:
    """Stands in for the presigned S3 URL CloudFormation waits on."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        responses = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                responses.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cfn-response?signature=x"


@pytest.fixture
def fresh_database(admin_url):
    name = f"kestrel_cfn_{uuid.uuid4().hex[:8]}"
    yield provision(admin_url, name)
    drop_database(admin_url, name)


@pytest.fixture
def aws_configured(fresh_database, monkeypatch):
    """Configure the function as serverless.yml does in AWS: secrets, not URLs."""
    url = make_url(fresh_database.owner_url)
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    suffix = uuid.uuid4().hex[:6]
    owner = secrets.create_secret(
        Name=f"rds-master-{suffix}", SecretString=json.dumps({"username": url.username, "password": url.password})
    )
    app = secrets.create_secret(
        Name=f"kestrel-app-{suffix}", SecretString=json.dumps({"username": "kestrel_app", "password": url.password})
    )
    monkeypatch.delenv("KESTREL_MIGRATION_DATABASE_URL")
    monkeypatch.setenv("KESTREL_DB_OWNER_SECRET_ARN", owner["ARN"])
    monkeypatch.setenv("KESTREL_DB_SECRET_ARN", app["ARN"])
    monkeypatch.setenv("KESTREL_DB_HOST", url.query["host"])
    monkeypatch.setenv("KESTREL_DB_NAME", fresh_database.name)
    monkeypatch.setenv("KESTREL_DB_SSLMODE", "disable")
    from shared.settings import forget_settings

    forget_settings()
    yield fresh_database
    forget_settings()


def _event(request_type: str, response_url: str) -> dict:
    return {
        "RequestType": request_type,
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/kestrel-dev/abc",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "DatabaseMigration",
        "ResourceType": "Custom::DatabaseMigration",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:x", "Revision": "0001"},
    }


def test_deploy_migrates_to_head_and_answers_cloudformation(aws_configured):
    from functions.db_migrate.handler import handler

    responses = CloudFormationResponses()
    context: Any = LocalLambdaContext(function_name="db_migrate", timeout_seconds=300)
    handler(_event("Create", responses.url), context)
    handler(_event("Update", responses.url), context)  # running again is harmless
    handler(_event("Delete", responses.url), context)  # and deleting the stack keeps the data

    assert [body["Status"] for body in responses.bodies] == ["SUCCESS", "SUCCESS", "SUCCESS"]
    assert responses.bodies[0]["PhysicalResourceId"] == "kestrel-database-migration"
    assert responses.bodies[0]["LogicalResourceId"] == "DatabaseMigration"
    engine = make_engine(make_url(aws_configured.owner_url), pool_size=1)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == migration_head()
        assert conn.scalar(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'kestrel_app'")) is True
    engine.dispose()


def test_a_failed_migration_reports_failed_with_the_reason(aws_configured, monkeypatch):
    from functions.db_migrate.handler import handler
    from shared.settings import forget_settings

    monkeypatch.setenv("KESTREL_DB_NAME", "no_such_database")
    forget_settings()
    responses = CloudFormationResponses()
    context: Any = LocalLambdaContext(function_name="db_migrate")
    handler(_event("Create", responses.url), context)
    assert responses.bodies[0]["Status"] == "FAILED"
    assert "no_such_database" in responses.bodies[0]["Reason"]
