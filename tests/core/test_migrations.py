"""The schema comes from the migrations: they must build exactly what the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from peerlearn.extensions import db
from peerlearn.search.models import include_object


def test_migrations_match_the_models(app):
    # The search index's FTS5 table / tsvector column are made by hand per database and are
    # not in the models: the same hook that keeps autogenerate from dropping them skips them.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_downgrade_to_empty_and_upgrade_again(app):
    downgrade(revision="base")
    try:
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        upgrade()
    assert {"users", "spaces", "memberships", "organisations", "audit_entries"} <= set(
        inspect(db.engine).get_table_names()
    )
