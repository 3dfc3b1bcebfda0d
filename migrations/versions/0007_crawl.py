"""The site crawler: frontier, robots.txt per host, page snapshots and links, audit findings, an outbox, politeness.

* ``crawl_frontier``: the URLs of one crawl (a ``site_crawl`` job), each fetched
  once whatever the redeliveries; ``crawl_hosts`` caches robots.txt per crawl.
* ``crawled_pages`` gains a stable ``id`` and the latest content hash: a project's
  page across crawls. ``page_snapshots`` is what one crawl saw of a URL,
  ``page_links`` its links, ``crawl_issues`` the site audit's findings.
* ``page_changed_events``: the outbox of new and changed pages for the NLP worker.
* ``crawl_host_pace`` / ``crawl_host_slots``: the platform-wide per-host limiter,
  with no tenant data; the application role reaches them only through
  ``kestrel_crawl_acquire_host`` and ``kestrel_crawl_release_host``.
* ``kestrel_crawlable_projects()``: the weekly re-crawl's window onto projects
  (identifiers only), like the Search Console schedule's.
* ``tenants.plan``: what a tenant pays for caps the size of its crawls.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import APP_ROLE, protect_tenant_table, unprotect_tenant_table

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("crawl_hosts", "crawl_frontier", "page_snapshots", "page_links", "crawl_issues", "page_changed_events")
SCHEDULER_ROLE = "kestrel_sync_scheduler"  # from 0003: the role of the schedules' cross-tenant functions

# One round trip per request: take a slot of the host when its pace allows, else say how long to wait.
ACQUIRE_HOST = """
CREATE FUNCTION kestrel_crawl_acquire_host(p_host text, p_slots integer, p_interval_ms integer, p_lease_ms integer)
RETURNS TABLE (slot integer, wait_ms integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_now timestamptz := clock_timestamp();
  v_next timestamptz;
  v_delay_ms integer;
  v_slot integer;
BEGIN
  INSERT INTO crawl_host_pace (host, next_at) VALUES (p_host, v_now) ON CONFLICT (host) DO NOTHING;
  SELECT p.next_at, p.crawl_delay_ms INTO v_next, v_delay_ms FROM crawl_host_pace p WHERE p.host = p_host FOR UPDATE;
  IF v_next > v_now THEN
    RETURN QUERY SELECT NULL::integer, ceil(extract(epoch FROM v_next - v_now) * 1000)::integer;
    RETURN;
  END IF;
  INSERT INTO crawl_host_slots (host, slot, leased_until)
    SELECT p_host, s, v_now FROM generate_series(0, p_slots - 1) AS s
    ON CONFLICT DO NOTHING;
  SELECT s.slot INTO v_slot FROM crawl_host_slots s
    WHERE s.host = p_host AND s.slot < p_slots AND s.leased_until <= v_now
    ORDER BY s.slot LIMIT 1;
  IF v_slot IS NULL THEN  -- every slot in flight: ask again shortly (slots are released when requests end)
    RETURN QUERY SELECT NULL::integer, 25;
    RETURN;
  END IF;
  UPDATE crawl_host_slots s SET leased_until = v_now + make_interval(secs => p_lease_ms / 1000.0)
    WHERE s.host = p_host AND s.slot = v_slot;
  UPDATE crawl_host_pace p SET next_at = v_now + make_interval(secs => greatest(p_interval_ms, v_delay_ms) / 1000.0)
    WHERE p.host = p_host;
  RETURN QUERY SELECT v_slot, 0;
END
$$
"""

RELEASE_HOST = """
CREATE FUNCTION kestrel_crawl_release_host(p_host text, p_slot integer, p_backoff_ms integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE crawl_host_slots SET leased_until = clock_timestamp() WHERE host = p_host AND slot = p_slot;
  UPDATE crawl_host_pace
    SET next_at = greatest(next_at, clock_timestamp() + make_interval(secs => p_backoff_ms / 1000.0))
    WHERE host = p_host AND p_backoff_ms > 0;
$$
"""

# The site's own Crawl-delay (robots.txt), for every request to it: pages, sitemaps, redirect hops.
HOST_CRAWL_DELAY = """
CREATE FUNCTION kestrel_crawl_host_delay(p_host text, p_delay_ms integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  INSERT INTO crawl_host_pace (host, crawl_delay_ms) VALUES (p_host, p_delay_ms)
  ON CONFLICT (host) DO UPDATE SET crawl_delay_ms = EXCLUDED.crawl_delay_ms
  WHERE crawl_host_pace.crawl_delay_ms IS DISTINCT FROM EXCLUDED.crawl_delay_ms;
$$
"""

CRAWLABLE_PROJECTS = """
CREATE FUNCTION kestrel_crawlable_projects()
RETURNS TABLE (tenant_id text, project_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT p.tenant_id, p.id FROM projects p ORDER BY p.tenant_id, p.id
$$
"""


def upgrade() -> None:
    # A project's page gets a stable id first: snapshots reference it.
    op.add_column(
        "crawled_pages", sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False)
    )
    op.add_column("crawled_pages", sa.Column("content_hash", sa.Text(), nullable=True))
    op.add_column("crawled_pages", sa.Column("last_job_id", sa.UUID(), nullable=True))
    op.add_column(
        "crawled_pages",
        sa.Column("first_crawled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_unique_constraint(op.f("uq_crawled_pages_tenant_id_id"), "crawled_pages", ["tenant_id", "id"])
    op.create_table(
        "crawl_host_pace",
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("crawl_delay_ms", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_crawl_host_pace")),
    )
    op.create_table(
        "crawl_host_slots",
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("host", "slot", name=op.f("pk_crawl_host_slots")),
    )
    op.create_table(
        "crawl_frontier",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=True),
        sa.Column("in_sitemap", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("in_search_console", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "discovered_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'claimed', 'fetched', 'failed', 'blocked')", name=op.f("ck_crawl_frontier_state")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_crawl_frontier_tenant_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "url", name=op.f("pk_crawl_frontier")),
    )
    op.create_index(
        op.f("ix_crawl_frontier_job_id_state_host"), "crawl_frontier", ["job_id", "state", "host"], unique=False
    )
    op.create_table(
        "crawl_hosts",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("robots_status", sa.Integer(), nullable=True),
        sa.Column("robots_body", sa.LargeBinary(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_crawl_hosts_tenant_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "host", name=op.f("pk_crawl_hosts")),
    )
    op.create_table(
        "crawl_issues",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_crawl_issues_tenant_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "code", "url", name=op.f("pk_crawl_issues")),
    )
    op.create_table(
        "page_snapshots",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("redirects", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("bytes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("charset", sa.Text(), nullable=True),
        sa.Column("response_ms", sa.Float(), nullable=True),
        sa.Column("truncated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("blocked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("canonical", sa.Text(), nullable=True),
        sa.Column("canonical_source", sa.Text(), nullable=True),
        sa.Column("meta_robots", sa.Text(), nullable=True),
        sa.Column("x_robots_tag", sa.Text(), nullable=True),
        sa.Column("indexable", sa.Boolean(), nullable=False),
        sa.Column("indexability_reason", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("meta_description", sa.Text(), nullable=True),
        sa.Column("h1s", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("outline", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("lang", sa.Text(), nullable=True),
        sa.Column("hreflang", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("jsonld_types", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "open_graph", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("main_text", sa.Text(), nullable=True),
        sa.Column("word_count", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.Text(), nullable=True),
        sa.Column(
            "images_without_alt",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column("in_sitemap", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("in_search_console", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=True),
        sa.Column("inlinks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("change", sa.Text(), nullable=True),
        sa.Column("html_key", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("change IN ('new', 'changed', 'unchanged')", name=op.f("ck_page_snapshots_change")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_page_snapshots_tenant_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "page_id"],
            ["crawled_pages.tenant_id", "crawled_pages.id"],
            name=op.f("fk_page_snapshots_tenant_id_page_id_crawled_pages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "project_id"],
            ["projects.tenant_id", "projects.id"],
            name=op.f("fk_page_snapshots_tenant_id_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_snapshots")),
        sa.UniqueConstraint("job_id", "url", name=op.f("uq_page_snapshots_job_id_url")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_page_snapshots_tenant_id_id")),
    )
    op.create_index(
        op.f("ix_page_snapshots_page_id_created_at"), "page_snapshots", ["page_id", "created_at"], unique=False
    )
    op.create_table(
        "page_changed_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("snapshot_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("change IN ('new', 'changed')", name=op.f("ck_page_changed_events_change")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "snapshot_id"],
            ["page_snapshots.tenant_id", "page_snapshots.id"],
            name=op.f("fk_page_changed_events_tenant_id_snapshot_id_page_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_changed_events")),
        sa.UniqueConstraint("snapshot_id", name=op.f("uq_page_changed_events_snapshot_id")),
    )
    op.create_index(
        op.f("ix_page_changed_events_tenant_id_id"),
        "page_changed_events",
        ["tenant_id", "id"],
        unique=False,
        postgresql_where=sa.text("consumed_at IS NULL"),
    )
    op.create_table(
        "page_links",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("snapshot_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("anchor_text", sa.Text(), server_default="", nullable=False),
        sa.Column("rel", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "snapshot_id"],
            ["page_snapshots.tenant_id", "page_snapshots.id"],
            name=op.f("fk_page_links_tenant_id_snapshot_id_page_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "position", name=op.f("pk_page_links")),
    )
    op.create_index(
        op.f("ix_page_links_job_id_target_url"),
        "page_links",
        ["job_id", "target_url"],
        unique=False,
        postgresql_where=sa.text("internal"),
    )
    op.add_column("tenants", sa.Column("plan", sa.Text(), server_default="pro", nullable=False))
    op.create_check_constraint(op.f("ck_tenants_plan"), "tenants", "plan IN ('free', 'pro', 'agency')")
    for table in TABLES:
        protect_tenant_table(table)
    # The politeness tables hold no tenant data and are shared by every crawl: only the functions touch them.
    for function in (ACQUIRE_HOST, RELEASE_HOST, HOST_CRAWL_DELAY):
        op.execute(function)
    for signature in (
        "kestrel_crawl_host_delay(text, integer)",
        "kestrel_crawl_acquire_host(text, integer, integer, integer)",
        "kestrel_crawl_release_host(text, integer, integer)",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    # The weekly re-crawl lists projects across tenants (identifiers only), as the daily sync lists properties.
    op.execute(f"GRANT SELECT (tenant_id, id) ON projects TO {SCHEDULER_ROLE}")
    op.execute(f"CREATE POLICY crawl_scheduler ON projects FOR SELECT TO {SCHEDULER_ROLE} USING (true)")
    op.execute(CRAWLABLE_PROJECTS)
    op.execute(f"GRANT {SCHEDULER_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT CREATE ON SCHEMA public TO {SCHEDULER_ROLE}")
    op.execute(f"ALTER FUNCTION kestrel_crawlable_projects() OWNER TO {SCHEDULER_ROLE}")
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {SCHEDULER_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION kestrel_crawlable_projects() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION kestrel_crawlable_projects() TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION kestrel_crawlable_projects()")
    op.execute("DROP POLICY crawl_scheduler ON projects")
    op.execute(f"REVOKE SELECT (tenant_id, id) ON projects FROM {SCHEDULER_ROLE}")
    op.execute("DROP FUNCTION kestrel_crawl_host_delay(text, integer)")
    op.execute("DROP FUNCTION kestrel_crawl_release_host(text, integer, integer)")
    op.execute("DROP FUNCTION kestrel_crawl_acquire_host(text, integer, integer, integer)")
    for table in TABLES:
        unprotect_tenant_table(table)
    op.drop_index(
        op.f("ix_page_links_job_id_target_url"), table_name="page_links", postgresql_where=sa.text("internal")
    )
    op.drop_table("page_links")
    op.drop_index(
        op.f("ix_page_changed_events_tenant_id_id"),
        table_name="page_changed_events",
        postgresql_where=sa.text("consumed_at IS NULL"),
    )
    op.drop_table("page_changed_events")
    op.drop_index(op.f("ix_page_snapshots_page_id_created_at"), table_name="page_snapshots")
    op.drop_table("page_snapshots")
    op.drop_table("crawl_issues")
    op.drop_table("crawl_hosts")
    op.drop_index(op.f("ix_crawl_frontier_job_id_state_host"), table_name="crawl_frontier")
    op.drop_table("crawl_frontier")
    op.drop_table("crawl_host_slots")
    op.drop_table("crawl_host_pace")
    op.drop_constraint(op.f("ck_tenants_plan"), "tenants", type_="check")
    op.drop_column("tenants", "plan")
    op.drop_constraint(op.f("uq_crawled_pages_tenant_id_id"), "crawled_pages", type_="unique")
    op.drop_column("crawled_pages", "first_crawled_at")
    op.drop_column("crawled_pages", "last_job_id")
    op.drop_column("crawled_pages", "content_hash")
    op.drop_column("crawled_pages", "id")
