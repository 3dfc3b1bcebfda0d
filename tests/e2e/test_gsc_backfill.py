"""A Search Console backfill through the running local stack: API -> gsc_sync -> S3 chunks -> gsc_ingest -> rows."""

import datetime as dt
import urllib.request
from typing import Any

import psycopg
import pytest

from kestrel_local.search_console import ROWS_PER_DAY_CAP, SearchConsoleServer, day_rows
from shared.search_console.models import SEARCH_TYPES
from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import new_project, request, tenant_token, wait_for

pytestmark = pytest.mark.timeout(900)

DAYS = 30


def _job(stack: RunningStack, token: str, project_id: str, job_id: str) -> dict[str, Any]:
    status, body = request("GET", f"{stack.api}/v1/projects/{project_id}/jobs/{job_id}", token=token)
    assert status == 200, body
    return dict(body)


def test_a_30_day_backfill_end_to_end(local_stack: RunningStack, search_console: SearchConsoleServer) -> None:
    stack = local_stack
    token = tenant_token(stack, "org_e2e_gsc")
    project = new_project(stack, token)
    site_url = f"sc-domain:{project['domain']}"
    base = f"{stack.api}/v1/projects/{project['id']}"
    status, prop = request("POST", f"{base}/properties", token=token, body={"site_url": site_url})
    assert status == 201, prop
    key_file = search_console.register_service_account([site_url])
    status, connection = request(
        "PUT", f"{base}/properties/{prop['id']}/connection", token=token, body={"credential": key_file}
    )
    assert status in (200, 201), connection
    assert "private_key" not in str(connection)
    status, verified = request("POST", f"{base}/properties/{prop['id']}/connection/verify", token=token)
    assert status == 200, verified
    assert verified["connection_status"] == "verified"

    end = search_console.today - dt.timedelta(days=3)  # final data only: the expected rows are stable
    start = end - dt.timedelta(days=DAYS - 1)
    status, job = request(
        "POST",
        f"{base}/properties/{prop['id']}/backfills",
        token=token,
        body={"start_date": start.isoformat(), "end_date": end.isoformat()},
    )
    assert status == 202, job

    def finished() -> dict[str, Any] | None:
        body = _job(stack, token, project["id"], job["id"])
        return body if body["status"] not in ("pending", "running") else None

    done = wait_for(finished, timeout=600, interval=2, what="the backfill")
    assert done["status"] == "succeeded", done
    assert done["progress_percent"] == 100
    assert done["progress"]["days_done"] == DAYS

    # Web rows are the synthetic day's finest rows, as the API returns them for all five dimensions.
    expected_web_rows = sum(
        min(len(day_rows(site_url, start + dt.timedelta(days=offset), "web")), ROWS_PER_DAY_CAP)
        for offset in range(DAYS)
    )
    progress = done["progress"]
    assert progress["rows_loaded"] == progress["rows_fetched"]
    owner_url = str(stack.runtime["owner_database_url"]).replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', 'org_e2e_gsc', false)")
        loaded = conn.execute(
            "SELECT count(*), count(DISTINCT date), sum(clicks), sum(impressions),"
            " count(*) FILTER (WHERE search_type = 'web'), count(DISTINCT search_type)"
            " FROM gsc_rows WHERE property_id = %s",
            (prop["id"],),
        ).fetchone()
        rollup = conn.execute(
            "SELECT sum(rows), sum(clicks), sum(impressions) FROM gsc_daily_rollup WHERE property_id = %s",
            (prop["id"],),
        ).fetchone()
    assert loaded is not None
    assert rollup is not None
    assert loaded[0] == progress["rows_loaded"]
    assert loaded[1] == DAYS
    assert loaded[4] == expected_web_rows
    assert loaded[5] == len(SEARCH_TYPES)
    assert (rollup[0], rollup[1], rollup[2]) == (loaded[0], loaded[2], loaded[3])

    # The rollup worker (asked by gsc_ingest after each load) builds the report aggregates; the reports API
    # then answers from them, the same numbers as the rows.
    reports = f"{base}/properties/{prop['id']}/reports"

    def rolled_up() -> dict[str, Any] | None:
        status, body = request("GET", f"{reports}/performance?start_date={start}&end_date={end}", token=token)
        assert status == 200, body
        return dict(body) if body["coverage"]["rollup_pending_days"] == 0 else None

    performance = wait_for(rolled_up, timeout=300, interval=2, what="the rollup")
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', 'org_e2e_gsc', false)")
        web = conn.execute(
            "SELECT sum(clicks), sum(impressions) FROM gsc_rows WHERE property_id = %s AND search_type = 'web'",
            (prop["id"],),
        ).fetchone()
        top_query = conn.execute(
            "SELECT query, sum(clicks) FROM gsc_rows WHERE property_id = %s AND search_type = 'web'"
            ' GROUP BY query ORDER BY sum(clicks) DESC, query COLLATE "C" LIMIT 1',
            (prop["id"],),
        ).fetchone()
    assert web is not None
    assert top_query is not None
    assert (performance["totals"]["clicks"], performance["totals"]["impressions"]) == (web[0], web[1])
    assert performance["coverage"]["first_date"] == start.isoformat()
    assert performance["coverage"]["last_date"] == end.isoformat()
    assert len(performance["items"]) == DAYS

    status, breakdown = request("GET", f"{reports}/breakdown?start_date={start}&end_date={end}&limit=1", token=token)
    assert status == 200, breakdown
    assert (breakdown["items"][0]["key"], breakdown["items"][0]["clicks"]) == (top_query[0], top_query[1])
    csv_request = urllib.request.Request(  # noqa: S310 - the local gateway
        f"{reports}/breakdown?start_date={start}&end_date={end}",
        headers={"authorization": f"Bearer {token}", "accept": "text/csv"},
    )
    with urllib.request.urlopen(csv_request, timeout=60) as response:  # noqa: S310
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.read().decode().splitlines()
    assert lines[0] == "key,clicks,impressions,ctr,position,brand"
    assert lines[1].startswith(f"{top_query[0]},{top_query[1]},")
