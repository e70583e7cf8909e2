"""Wiring search into the app: the index follows writes through signals, and
``flask --app peerlearn search-reindex`` rebuilds it."""

import time

import click
from flask import Flask
from flask.cli import with_appcontext

from peerlearn.search import indexing


@click.command("search-reindex")
@with_appcontext
def search_reindex() -> None:
    """Rebuild the search index from the database (safe to run again, and while serving)."""
    started = time.monotonic()
    with click.progressbar(length=indexing.rows_to_index(), label="Indexing") as bar:
        counts = indexing.reindex_all(bar.update)
    for kind, count in counts.items():
        click.echo(f"  {kind.plural}: {count:,}")
    click.echo(f"Indexed {sum(counts.values()):,} items in {time.monotonic() - started:.1f} s.")


def init_app(app: Flask) -> None:
    """Connect the index to the signals and add the command."""
    indexing.connect_signals()
    app.cli.add_command(search_reindex)
