"""The schema comes from the migrations: they must build exactly what the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from peerlearn.extensions import db


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
