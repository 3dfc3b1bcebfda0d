"""The Search Console schema: gsc_rows hash-partitioned by property, and its partitions no way around RLS."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from kestrel_local.postgres import LocalDatabase, drop_database, provision
from shared.auth import Principal
from shared.db import app_engine, is_unique_violation, make_engine, tenant_transaction
from shared.migrate import downgrade, upgrade
from shared.projects import projects
from shared.projects.models import ProjectIn, PropertyIn
from shared.search_console.tables import GSC_ROWS_PARTITIONS
from tests.support.tenants import new_tenant, owner_connection

PARTITIONS = [f"gsc_rows_p{n:02d}" for n in range(GSC_ROWS_PARTITIONS)]
GSC_TABLES = {"gsc_rows", "gsc_daily_rollup", "gsc_export_snapshots", *PARTITIONS}

INSERT_ROW = text(
    "INSERT INTO gsc_rows (tenant_id, property_id, date, search_type, query, page, country, device,"
    " clicks, impressions, ctr, position)"
    " VALUES (:t, :p, :d, 'web', :q, 'https://example.com/', 'gbr', :device, 1, 10, 0.1, 3.5)"
)


def _tenant_with_properties(owner_url: str, count: int) -> tuple[str, list[uuid.UUID]]:
    tenant_id = new_tenant(owner_url)
    principal = Principal(subject="auth0|gsc", tenant_id=tenant_id, permissions=frozenset())
    domain = f"{tenant_id.replace('_', '-')}.example.com"
    project = projects.create_project(principal, ProjectIn(name="Site", domain=domain))
    properties = [
        projects.create_property(principal, project.id, PropertyIn(site_url=f"https://{domain}/s{n}/")).id
        for n in range(count)
    ]
    return tenant_id, properties


def _insert(tenant_id: str, property_id: uuid.UUID, **overrides: Any) -> None:
    values = {"t": tenant_id, "p": property_id, "d": "2026-11-01", "q": "shoes", "device": "DESKTOP", **overrides}
    with tenant_transaction(tenant_id) as session:
        session.execute(INSERT_ROW, values)


@pytest.fixture(scope="module")
def loaded(platform: LocalDatabase) -> tuple[str, list[uuid.UUID]]:
    """A tenant with eight properties, each with two rows loaded through the parent table."""
    tenant_id, properties = _tenant_with_properties(platform.owner_url, 8)
    for property_id in properties:
        _insert(tenant_id, property_id, d="2026-11-01")
        _insert(tenant_id, property_id, d="2026-11-02")
    return tenant_id, properties


def test_gsc_rows_has_64_hash_partitions(platform: LocalDatabase) -> None:
    with owner_connection(platform.owner_url) as conn:
        strategy = conn.execute(
            "SELECT partstrat, pg_get_partkeydef('gsc_rows'::regclass) FROM pg_partitioned_table"
            " WHERE partrelid = 'gsc_rows'::regclass"
        ).fetchone()
        assert strategy == ("h", "HASH (property_id)")
        bounds: dict[str, str] = dict(
            conn.execute(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'gsc_rows'::regclass"
            ).fetchall()
        )
    assert sorted(bounds) == PARTITIONS
    for n, name in enumerate(PARTITIONS):
        assert bounds[name] == f"FOR VALUES WITH (modulus 64, remainder {n})"


def test_rows_route_by_property(platform: LocalDatabase, loaded: tuple[str, list[uuid.UUID]]) -> None:
    tenant_id, properties = loaded
    with owner_connection(platform.owner_url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        placed = conn.execute(
            "SELECT property_id, tableoid::regclass::text FROM gsc_rows WHERE property_id = ANY(%s)", (properties,)
        ).fetchall()
        assert len(placed) == 2 * len(properties)
        partition_of: dict[uuid.UUID, set[str]] = {}
        for property_id, partition in placed:
            partition_of.setdefault(property_id, set()).add(partition)
        assert all(len(partitions) == 1 for partitions in partition_of.values())  # a property lives in one
        for property_id, (partition,) in partition_of.items():
            remainder = int(partition.removeprefix("gsc_rows_p"))
            assert conn.execute(
                "SELECT satisfies_hash_partition('gsc_rows'::regclass, 64, %s, %s::uuid)", (remainder, property_id)
            ).fetchone() == (True,)
    assert len({p for (p,) in partition_of.values()}) > 1  # eight random properties do not share one partition
    with tenant_transaction(tenant_id) as session:  # the reports' query, through the parent
        per_day = session.execute(
            text("SELECT date, count(*) FROM gsc_rows WHERE property_id = :p GROUP BY date ORDER BY date"),
            {"p": properties[0]},
        ).all()
    assert [count for _, count in per_day] == [1, 1]


def test_primary_key_rejects_duplicate_rows(loaded: tuple[str, list[uuid.UUID]]) -> None:
    tenant_id, properties = loaded
    with pytest.raises(IntegrityError) as raised:
        _insert(tenant_id, properties[0], d="2026-11-01")
    assert is_unique_violation(raised.value)
    _insert(tenant_id, properties[0], d="2026-11-01", device="TABLET")  # another dimension value is another row


def test_checks_reject_values_google_does_not_return(loaded: tuple[str, list[uuid.UUID]]) -> None:
    tenant_id, properties = loaded
    for overrides in ({"device": "desktop"}, {"device": "PHONE"}):
        with pytest.raises(IntegrityError, match="check constraint"):
            _insert(tenant_id, properties[1], d="2026-10-01", **overrides)
    with pytest.raises(IntegrityError, match="ck_gsc_rows_country"), tenant_transaction(tenant_id) as session:
        session.execute(
            text(INSERT_ROW.text.replace("'gbr'", "'GB'")),
            {"t": tenant_id, "p": properties[1], "d": "2026-10-01", "q": "x", "device": "MOBILE"},
        )


def test_the_application_role_cannot_reach_a_partition_directly(
    platform: LocalDatabase, loaded: tuple[str, list[uuid.UUID]]
) -> None:
    tenant_id, properties = loaded
    with tenant_transaction(tenant_id) as session:
        home = session.scalar(
            text("SELECT tableoid::regclass::text FROM gsc_rows WHERE property_id = :p LIMIT 1"), {"p": properties[0]}
        )
    assert home in PARTITIONS
    statements = [
        f"SELECT count(*) FROM {home}",
        f"UPDATE {home} SET clicks = 0",
        f"DELETE FROM {home}",
        f"INSERT INTO {home} (tenant_id, property_id, date, search_type, query, page, country, device,"
        f" clicks, impressions, ctr, position) SELECT tenant_id, property_id, date + 1, search_type, query, page,"
        f" country, device, clicks, impressions, ctr, position FROM gsc_rows LIMIT 1",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="permission denied"), tenant_transaction(tenant_id) as session:
            session.execute(text(statement))
    with app_engine().connect() as conn:
        granted = conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relname = ANY(:names) AND ("
                " has_table_privilege(current_user, oid, 'SELECT') OR has_table_privilege(current_user, oid, 'INSERT')"
                " OR has_table_privilege(current_user, oid, 'UPDATE')"
                " OR has_table_privilege(current_user, oid, 'DELETE'))"
            ),
            {"names": PARTITIONS},
        ).all()
        assert granted == []
        forced = conn.scalar(
            text(
                "SELECT count(*) FROM pg_class c"
                " JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = 'tenant_isolation'"
                " WHERE c.relname = ANY(:names) AND c.relrowsecurity AND c.relforcerowsecurity"
            ),
            {"names": PARTITIONS},
        )
        assert forced == GSC_ROWS_PARTITIONS
    # Defence in depth: even a role with privileges on the partition (the owner) sees only the tenant in context.
    other = new_tenant(platform.owner_url)
    with owner_connection(platform.owner_url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (other,))
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(home))
        assert conn.execute(query).fetchone() == (0,)


def test_deleting_a_property_deletes_its_rows(platform: LocalDatabase) -> None:
    tenant_id, (property_id,) = _tenant_with_properties(platform.owner_url, 1)
    _insert(tenant_id, property_id)
    with tenant_transaction(tenant_id) as session:
        session.execute(text("DELETE FROM properties WHERE id = :p"), {"p": property_id})
        assert session.scalar(text("SELECT count(*) FROM gsc_rows WHERE property_id = :p"), {"p": property_id}) == 0


@pytest.fixture
def scratch_database(admin_url: str) -> Iterator[LocalDatabase]:
    name = f"kestrel_gsc_{uuid.uuid4().hex[:8]}"
    yield provision(admin_url, name)
    drop_database(admin_url, name)


def test_downgrade_to_0001_drops_everything_and_upgrade_works_again(scratch_database: LocalDatabase) -> None:
    engine = make_engine(make_url(scratch_database.owner_url), pool_size=1)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= GSC_TABLES
        downgrade(engine, "0001")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) & GSC_TABLES == set()
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0001"
            leftovers = conn.scalar(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'gsc%'"))
            assert leftovers == 0
        upgrade(engine)
        with engine.connect() as conn:
            partitions = conn.scalar(text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'gsc_rows'::regclass"))
            assert partitions == GSC_ROWS_PARTITIONS
    finally:
        engine.dispose()
