"""Row-level security keeps tenants apart in the database itself, whatever the code does."""

import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.auth import Principal
from shared.db import app_engine, tenant_transaction
from shared.jobs.data import jobs
from shared.jobs.models import JobKind
from shared.projects import keywords, projects
from shared.projects.models import KeywordIn, ProjectIn, PropertyIn
from shared.runtime import idempotency
from shared.schema import TENANT_TABLES
from shared.tenancy.data import tenants
from tests.support.tenants import new_tenant, owner_connection


def _populate(owner_url: str) -> str:
    """A tenant with a row in every tenant table."""
    tenant_id = new_tenant(owner_url)
    principal = Principal(subject="auth0|seed", tenant_id=tenant_id, permissions=frozenset())
    project = projects.create_project(
        principal, ProjectIn(name="Site", domain=f"{tenant_id.replace('_', '-')}.example.com")
    )
    prop = projects.create_property(
        principal, project.id, PropertyIn(site_url=f"sc-domain:{tenant_id.replace('_', '-')}.example.com")
    )
    keywords.add_keyword(principal, project.id, KeywordIn(text="best running shoes"))
    with tenant_transaction(tenant_id) as session:
        tenants.touch_user(session, "auth0|seed")
        job = jobs.create(
            session, kind=JobKind.KEYWORD_IMPORT, project_id=project.id, input={}, created_by="auth0|seed"
        )
        idempotency.claim(session, "seed-work", lease=timedelta(minutes=1))
        seed = {"t": tenant_id, "p": prop.id, "j": job.id}
        session.execute(
            text(
                "INSERT INTO gsc_rows (tenant_id, property_id, date, search_type, query, page, country, device,"
                " clicks, impressions, ctr, position)"
                " VALUES (:t, :p, '2026-11-01', 'web', 'running shoes', 'https://x.example/', 'usa', 'MOBILE',"
                " 3, 100, 0.03, 4.2)"
            ),
            seed,
        )
        session.execute(
            text(
                "INSERT INTO gsc_daily_rollup (tenant_id, property_id, date, search_type, clicks, impressions,"
                " position_weighted, rows) VALUES (:t, :p, '2026-11-01', 'web', 3, 100, 420, 1)"
            ),
            seed,
        )
        session.execute(
            text(
                "INSERT INTO gsc_export_snapshots (tenant_id, property_id, job_id, report, range_start, range_end,"
                " key, clicks, impressions, ctr, position)"
                " VALUES (:t, :p, :j, 'queries', '2026-10-01', '2026-10-28', 'running shoes', 30, 1000, 0.03, 4.5)"
            ),
            seed,
        )
        session.execute(
            text("INSERT INTO gsc_job_days (tenant_id, job_id, property_id, date) VALUES (:t, :j, :p, '2026-11-01')"),
            seed,
        )
        session.execute(
            text(
                "INSERT INTO gsc_chunks (tenant_id, job_id, property_id, object_key, date, rows)"
                " VALUES (:t, :j, :p, 'gsc-chunks/x.ndjson.gz', '2026-11-01', 1)"
            ),
            seed,
        )
        seed["project"] = project.id
        for statement in (
            "INSERT INTO gsc_query_page_daily (tenant_id, property_id, date, search_type, query, page, clicks,"
            " impressions, position_weighted) VALUES (:t, :p, '2026-11-01', 'web', 'shoes', 'https://x.example/', 3,"
            " 100, 420)",
            "INSERT INTO gsc_query_page_weekly (tenant_id, property_id, week, search_type, query, page, clicks,"
            " impressions, position_weighted) VALUES (:t, :p, '2026-10-26', 'web', 'shoes', 'https://x.example/', 3,"
            " 100, 420)",
            "INSERT INTO gsc_page_weekly (tenant_id, property_id, week, search_type, page, clicks, impressions,"
            " position_weighted, clicks_4w) VALUES (:t, :p, '2026-10-26', 'web', 'https://x.example/', 3, 100, 420, 3)",
            "INSERT INTO gsc_dimension_daily (tenant_id, property_id, date, search_type, country, device, clicks,"
            " impressions, position_weighted) VALUES (:t, :p, '2026-11-01', 'web', 'usa', 'MOBILE', 3, 100, 420)",
            "INSERT INTO gsc_rollup_pending (tenant_id, property_id, date) VALUES (:t, :p, '2026-11-01')",
            "INSERT INTO crawled_pages (tenant_id, project_id, url, title, h1)"
            " VALUES (:t, :project, 'https://x.example/', 'Shoes', 'Shoes')",
            "INSERT INTO gsc_rollup_windows (tenant_id, property_id, search_type, window_start, window_end)"
            " VALUES (:t, :p, 'web', '2026-10-05', '2026-11-01')",
            "INSERT INTO gsc_query_page_window (tenant_id, property_id, search_type, window_start, window_end, query,"
            " page, clicks, impressions, position_weighted)"
            " VALUES (:t, :p, 'web', '2026-10-05', '2026-11-01', 'shoes', 'https://x.example/', 3, 100, 420)",
        ):
            session.execute(text(statement), seed)
        crawl = jobs.create(session, kind=JobKind.SITE_CRAWL, project_id=project.id, input={}, created_by="auth0|seed")
        seed["crawl"] = crawl.id
        for statement in (
            "INSERT INTO crawl_hosts (tenant_id, job_id, host, robots_status) VALUES (:t, :crawl, 'x.example', 404)",
            "INSERT INTO crawl_frontier (tenant_id, job_id, url, host, depth) VALUES (:t, :crawl, 'https://x.example/',"
            " 'x.example', 0)",
            "INSERT INTO page_snapshots (tenant_id, project_id, job_id, page_id, url, final_url, status, indexable,"
            " indexability_reason) SELECT :t, :project, :crawl, id, url, url, 200, true, 'indexable'"
            " FROM crawled_pages WHERE project_id = :project",
            "INSERT INTO page_links (tenant_id, snapshot_id, position, job_id, target_url, internal)"
            " SELECT :t, id, 0, :crawl, 'https://x.example/boots', true FROM page_snapshots WHERE job_id = :crawl",
            "INSERT INTO crawl_issues (tenant_id, job_id, code, url) VALUES (:t, :crawl, 'h1_missing',"
            " 'https://x.example/')",
            "INSERT INTO page_changed_events (tenant_id, project_id, page_id, snapshot_id, url, content_hash, change)"
            " SELECT :t, :project, page_id, id, url, 'abc', 'new' FROM page_snapshots WHERE job_id = :crawl",
        ):
            session.execute(text(statement), seed)
        topic_job = jobs.create(
            session, kind=JobKind.TOPIC_MODEL, project_id=project.id, input={}, created_by="auth0|seed"
        )
        seed["topic_job"] = topic_job.id
        for statement in (
            "INSERT INTO nlp_page_states (tenant_id, page_id, project_id, content_hash, language, supported, words)"
            " SELECT :t, id, :project, 'abc', 'en', true, 120 FROM crawled_pages WHERE project_id = :project",
            "INSERT INTO project_entities (tenant_id, project_id, id, label, normalized, text, pages, mentions)"
            " VALUES (:t, :project, gen_random_uuid(), 'ORG', 'acme', 'Acme', 1, 2)",
            "INSERT INTO page_entities (tenant_id, project_id, page_id, entity_id, mentions, first_offset, text)"
            " SELECT :t, :project, p.id, e.id, 2, 0, 'Acme' FROM crawled_pages p, project_entities e"
            " WHERE p.project_id = :project AND e.project_id = :project",
            "INSERT INTO topic_models (tenant_id, project_id, job_id, version, k, why, candidates, coherence_measure,"
            " seed, documents, dictionary_size, s3_bucket, s3_prefix, corpus_at, current)"
            " VALUES (:t, :project, :topic_job, 'v1', 3, 'k=3', '[]', 'c_npmi', 42, 20, 100, 'b', 'nlp/models/', now(),"
            " true)",
            "INSERT INTO topics (tenant_id, model_id, topic_id, label, terms)"
            " SELECT :t, id, 0, 'tents', '[]' FROM topic_models WHERE project_id = :project",
            "INSERT INTO page_topics (tenant_id, project_id, model_id, topic_id, page_id, weight)"
            " SELECT :t, :project, m.id, 0, p.id, 0.9 FROM topic_models m, crawled_pages p"
            " WHERE m.project_id = :project AND p.project_id = :project",
        ):
            session.execute(text(statement), seed)
        for statement in (
            "INSERT INTO rank_budgets (tenant_id, monthly_budget_usd, live_checks_per_day) VALUES (:t, 25, 50)",
            "INSERT INTO rank_tasks (tenant_id, project_id, keyword_id, check_date, mode, depth, status,"
            " provider_task_id, cost, posted_at) SELECT :t, :project, id, '2026-11-01', 'standard', 10, 'collected',"
            " :t || '-task', 0.0006, now() FROM keywords WHERE project_id = :project",
            "INSERT INTO serp_snapshots (tenant_id, project_id, keyword_id, check_date, device, location_code,"
            " language_code, depth, rank_task_id, fetched_at, items_count, item_types, position, url)"
            " SELECT :t, :project, keyword_id, check_date, 'desktop', 2840, 'en', 10, id, now(), 1, '{organic}', 1,"
            " 'https://x.example/' FROM rank_tasks WHERE project_id = :project",
            "INSERT INTO serp_items (tenant_id, project_id, snapshot_id, item_index, type, rank_group, rank_absolute,"
            " domain, url, known) SELECT :t, :project, id, 0, 'organic', 1, 1, 'x.example', 'https://x.example/', true"
            " FROM serp_snapshots WHERE project_id = :project",
            "INSERT INTO screenshots (tenant_id, project_id, snapshot_id, keyword_id, kind, url, variant, width,"
            " height, s3_key, bytes, status) SELECT :t, :project, id, keyword_id, 'serp', 'https://x.example/',"
            " 'desktop_fold', 1920, 1080, 'k.png', 100, 'stored' FROM serp_snapshots WHERE project_id = :project",
        ):
            session.execute(text(statement), seed)
    return tenant_id


@pytest.fixture(scope="module")
def two_tenants(platform):
    return _populate(platform.owner_url), _populate(platform.owner_url)


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_a_tenant_sees_only_its_own_rows(two_tenants, table):
    tenant_a, _ = two_tenants
    with tenant_transaction(tenant_a) as session:
        owners = set(session.scalars(text(f"SELECT DISTINCT tenant_id FROM {table}")))
    assert owners == {tenant_a}


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_without_tenant_context_nothing_is_visible(two_tenants, table):
    with app_engine().connect() as conn:
        assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0


def test_writes_for_another_tenant_are_refused(two_tenants):
    tenant_a, tenant_b = two_tenants
    with pytest.raises(DBAPIError, match="row-level security"), tenant_transaction(tenant_a) as session:
        session.execute(
            text("INSERT INTO projects (tenant_id, name, domain) VALUES (:t, 'x', 'intruder.example.com')"),
            {"t": tenant_b},
        )
    with tenant_transaction(tenant_a) as session:
        changed = session.execute(text("UPDATE projects SET name = 'hijacked' WHERE tenant_id = :t"), {"t": tenant_b})
        deleted = session.execute(text("DELETE FROM keywords WHERE tenant_id = :t"), {"t": tenant_b})
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        assert deleted.rowcount == 0  # type: ignore[attr-defined]
    with tenant_transaction(tenant_b) as session:
        assert "hijacked" not in set(session.scalars(text("SELECT name FROM projects")))
        assert session.scalar(text("SELECT count(*) FROM keywords")) == 1


def test_moving_a_row_to_another_tenant_is_refused(two_tenants):
    tenant_a, tenant_b = two_tenants
    with pytest.raises(DBAPIError, match="row-level security"), tenant_transaction(tenant_a) as session:
        session.execute(text("UPDATE keywords SET tenant_id = :t"), {"t": tenant_b})


def test_the_application_role_cannot_bypass_row_level_security(two_tenants):
    with app_engine().connect() as conn:
        role = conn.execute(
            text("SELECT rolsuper, rolbypassrls, current_user FROM pg_roles WHERE rolname = current_user")
        ).one()
        assert role.rolsuper is False
        assert role.rolbypassrls is False
        owned = conn.scalar(text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user"))
        assert owned == 0
        forced = conn.execute(
            text("SELECT relname FROM pg_class WHERE relname = ANY(:t) AND relrowsecurity AND relforcerowsecurity"),
            {"t": list(TENANT_TABLES)},
        ).scalars()
        assert set(forced) == set(TENANT_TABLES)

    attempts = [
        "ALTER TABLE projects DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE projects NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON projects",
        "SET ROLE kestrel_owner",
        "ALTER ROLE kestrel_app BYPASSRLS",
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError), app_engine().connect() as conn:
            conn.execute(text(statement))
    # row_security = off makes a query that RLS would filter fail instead of bypassing the policy.
    with pytest.raises(DBAPIError, match="row-level security"), app_engine().connect() as conn:
        conn.execute(text("SET row_security = off"))
        conn.execute(text("SELECT * FROM projects"))


def test_foreign_keys_cannot_point_across_tenants(platform, two_tenants):
    tenant_a, tenant_b = two_tenants
    with tenant_transaction(tenant_b) as session:
        project_b = session.scalar(text("SELECT id FROM projects"))
    # Even the owner, who may write any tenant's rows under that tenant's context,
    # cannot attach A's keyword to B's project.
    with owner_connection(platform.owner_url) as conn, pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_a,))
        conn.execute(
            "INSERT INTO keywords (tenant_id, project_id, text, locale, country, device)"
            " VALUES (%s, %s, 'x', 'en', 'US', 'desktop')",
            (tenant_a, project_b),
        )


def test_unknown_tenant_context_sees_nothing(two_tenants):
    with tenant_transaction(f"org_{uuid.uuid4().hex[:12]}") as session:
        for table in TENANT_TABLES:
            assert session.scalar(text(f"SELECT count(*) FROM {table}")) == 0
