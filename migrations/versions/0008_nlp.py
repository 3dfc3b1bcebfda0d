"""Entities and topics: what the NLP service found in each page, per project aggregates, topic model versions.

* ``nlp_page_states``: per crawled page, the content hash the service analysed, its
  language (supported or not, and why), the pipeline, words and entities counted.
* ``page_entities``: a page's entities (about a million rows for a 10,000-page
  project), hash-partitioned by project into 64 like ``gsc_rows``;
  ``project_entities`` sums them per project (pages, mentions), kept by the
  nlp_entities worker in the transaction that replaces a page's rows.
* ``topic_models`` (every fitted version, one ``current`` per project), ``topics``
  (top terms and weights, coherence, a label) and ``page_topics`` (each page's
  weights in a version, hash-partitioned by project into 64).

Every table is a tenant table under the forced policy; each partition carries it
too and is reachable only through its parent.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import create_hash_partitions, protect_tenant_table, unprotect_tenant_table

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = 64  # as gsc_rows: a project's rows live in one partition of each table
TABLES = ("nlp_page_states", "project_entities", "page_entities", "topic_models", "topics", "page_topics")


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "project_id"],
        ["projects.tenant_id", "projects.id"],
        name=op.f(f"fk_{table}_tenant_id_project_id_projects"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "nlp_page_states",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("supported", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("pipeline_name", sa.Text(), nullable=True),
        sa.Column("pipeline_version", sa.Text(), nullable=True),
        sa.Column("words", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("entities", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("truncated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "page_id"],
            ["crawled_pages.tenant_id", "crawled_pages.id"],
            name=op.f("fk_nlp_page_states_tenant_id_page_id_crawled_pages"),
            ondelete="CASCADE",
        ),
        _project_fk("nlp_page_states"),
        sa.PrimaryKeyConstraint("page_id", name=op.f("pk_nlp_page_states")),
    )
    op.create_index(
        op.f("ix_nlp_page_states_project_id_processed_at"), "nlp_page_states", ["project_id", "processed_at"]
    )
    op.create_table(
        "project_entities",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("pages >= 0 AND mentions >= 0", name=op.f("ck_project_entities_counts")),
        _project_fk("project_entities"),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_project_entities")),
        sa.UniqueConstraint(
            "project_id", "label", "normalized", name=op.f("uq_project_entities_project_id_label_normalized")
        ),
    )
    op.create_index(
        op.f("ix_project_entities_project_id_pages_mentions_id"),
        "project_entities",
        ["project_id", "pages", "mentions", "id"],
    )
    op.create_table(
        "page_entities",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("first_offset", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _project_fk("page_entities"),
        sa.PrimaryKeyConstraint("project_id", "page_id", "entity_id", name=op.f("pk_page_entities")),
        postgresql_partition_by="HASH (project_id)",
    )
    # The pages mentioning an entity, most mentions first.
    op.create_index(
        op.f("ix_page_entities_project_id_entity_id_mentions_page_id"),
        "page_entities",
        ["project_id", "entity_id", "mentions", "page_id"],
    )
    create_hash_partitions("page_entities", PARTITIONS)
    op.create_table(
        "topic_models",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("candidates", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("coherence", sa.Double(), nullable=True),
        sa.Column("coherence_measure", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("dictionary_size", sa.Integer(), nullable=False),
        sa.Column("s3_bucket", sa.Text(), nullable=False),
        sa.Column("s3_prefix", sa.Text(), nullable=False),
        sa.Column("corpus_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _project_fk("topic_models"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_models")),
        sa.UniqueConstraint("project_id", "version", name=op.f("uq_topic_models_project_id_version")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_topic_models_tenant_id_id")),
    )
    # One current version per project.
    op.create_index(
        "ix_topic_models_current", "topic_models", ["project_id"], unique=True, postgresql_where=sa.text("current")
    )
    op.create_table(
        "topics",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("model_id", sa.UUID(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("terms", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("coherence", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "model_id"],
            ["topic_models.tenant_id", "topic_models.id"],
            name=op.f("fk_topics_tenant_id_model_id_topic_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "topic_id", name=op.f("pk_topics")),
    )
    op.create_table(
        "page_topics",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("model_id", sa.UUID(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        _project_fk("page_topics"),
        sa.PrimaryKeyConstraint("project_id", "model_id", "topic_id", "page_id", name=op.f("pk_page_topics")),
        postgresql_partition_by="HASH (project_id)",
    )
    # A topic's pages by weight.
    op.create_index(
        op.f("ix_page_topics_project_id_model_id_topic_id_weight_page_id"),
        "page_topics",
        ["project_id", "model_id", "topic_id", "weight", "page_id"],
    )
    create_hash_partitions("page_topics", PARTITIONS)
    for table in TABLES:
        protect_tenant_table(table)


def downgrade() -> None:
    for table in TABLES:
        unprotect_tenant_table(table)
    op.drop_table("page_topics")  # dropping a partitioned table drops its partitions
    op.drop_table("topics")
    op.drop_index("ix_topic_models_current", table_name="topic_models", postgresql_where=sa.text("current"))
    op.drop_table("topic_models")
    op.drop_table("page_entities")
    op.drop_index(op.f("ix_project_entities_project_id_pages_mentions_id"), table_name="project_entities")
    op.drop_table("project_entities")
    op.drop_index(op.f("ix_nlp_page_states_project_id_processed_at"), table_name="nlp_page_states")
    op.drop_table("nlp_page_states")
