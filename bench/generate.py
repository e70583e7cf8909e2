"""Build a network-scale peerlearn database for the benchmarks, in minutes.

    .venv/bin/python -m bench.generate --database-url sqlite:////tmp/bench.db
    .venv/bin/python -m bench.generate --database-url postgresql://postgres@127.0.0.1:5432/peerlearn_bench
    .venv/bin/python -m bench.generate --database-url sqlite:////tmp/bench-small.db --small

The schema comes from the migrations (run here first); the database must be empty. Rows are
written as the services would leave them: reply trees with ``root_id``, ``path`` and ``depth``;
thread counters, ``last_post_id`` and ``last_activity_at``; read positions and follows for everyone
who posted; ids in time order. Most threads are short and a few are long; one thread has exactly 50
posts on one page, and one reader (:data:`READER_EMAIL`) belongs to the busiest spaces and has many
notifications: ``bench/load.py`` signs in as them.
"""

import argparse
import random
import secrets
import sys
import time
from dataclasses import asdict, dataclass, replace

from sqlalchemy import create_engine, func, select

from bench import vocabulary as words
from bench.bulk import BulkWriter, tune_sqlite_for_loading
from bench.discussions import FIFTY, Discussions
from bench.people import DAY, People

#: The account the load script signs in as: a plain member, not an administrator.
READER_EMAIL = "bench.reader@peerlearn.example"
#: Only ever used on generated data served on a loopback address.
READER_PASSWORD = "bench reader password, loopback only"  # noqa: S105
#: The thread with exactly 50 posts, all on its first page.
FIFTY_POST_TITLE = "Benchmark: fifty posts on reporting SPC charts to the board"
#: The busiest space, whose thread list is measured.
BUSIEST_NAME = "Quality Management Systems SIG"
BUSIEST_SLUG = "quality-management-systems-sig"


@dataclass(frozen=True)
class Sizes:
    """How big a network to build (the defaults are the issue's network scale)."""

    users: int = 5_000
    spaces: int = 200
    threads: int = 50_000
    posts: int = 500_000
    #: The benchmark reader's notifications (everyone else gets about one per five posts).
    notifications: int = 2_000


SMALL = Sizes(users=300, spaces=20, threads=2_000, posts=20_000, notifications=300)


def generate(database_url: str, sizes: Sizes, seed: int) -> None:
    """Migrate an empty database and fill it."""
    from flask_migrate import upgrade

    from peerlearn import create_app
    from peerlearn.accounts.models import User
    from peerlearn.accounts.passwords import hash_password
    from peerlearn.config import normalise_database_url
    from peerlearn.core.text import render_markdown
    from peerlearn.extensions import db

    if sizes.posts < sizes.threads + FIFTY or sizes.spaces < 2 or sizes.users < 20:
        raise SystemExit(f"need posts >= threads + {FIFTY}, spaces >= 2 and users >= 20")
    url = normalise_database_url(database_url)
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_urlsafe(32)}
    app = create_app({**config, "PEERLEARN_ENV": "development", "LOG_LEVEL": "WARNING"})
    began = time.perf_counter()
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(User)):
            raise SystemExit(f"{database_url} already has users: give me an empty database")
        password_hash = hash_password(READER_PASSWORD)  # once: argon2 is slow on purpose
        bodies = [(source, render_markdown(source)) for source in words.post_bodies(rng)]
        metadata = db.metadata
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        tune_sqlite_for_loading(engine)
    print(f"Generating {sizes} into {engine.url.render_as_string()}", flush=True)
    write = BulkWriter(engine, metadata)
    now = time.time()
    people = People(rng, now=now, start=now - 730 * DAY, password_hash=password_hash)
    write("organisations", people.organisations())
    write("users", people.users(sizes.users, READER_EMAIL))
    write("spaces", people.spaces(sizes.spaces, BUSIEST_NAME))
    write("memberships", people.memberships())
    write("tags", people.tags())

    talk = Discussions(people, sizes.threads, sizes.posts, FIFTY_POST_TITLE)
    talk.plan()
    posts, threads = talk.posts_and_threads(bodies)
    write("threads", threads)
    write("thread_components", talk.components())
    write("thread_tags", talk.thread_tags())
    write("posts", posts)
    del posts
    # Written after the posts, which the foreign key needs on PostgreSQL.
    write.update("UPDATE threads SET solved_post_id = :post WHERE id = :thread", talk.solved)
    marks, counts = talk.helpful_marks()
    write("helpful_marks", marks)
    write.update("UPDATE posts SET helpful_count = :count WHERE id = :post", counts)
    follows, reads = talk.follows_and_reads()
    write("thread_subscriptions", follows)
    write("thread_reads", reads)
    space_reads, space_follows = talk.space_reads_and_follows()
    write("space_reads", space_reads)
    write("space_subscriptions", space_follows)
    write("notifications", talk.notifications(sizes.notifications))
    write.finish()
    engine.dispose()
    print(f"Done in {time.perf_counter() - began:.0f} s; the reader is {READER_EMAIL}.", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty SQLite or PostgreSQL db")
    parser.add_argument("--small", action="store_true", help=f"a quick check: {SMALL}")
    for name in asdict(Sizes()):
        parser.add_argument(f"--{name}", type=int, help=f"default {getattr(Sizes(), name):,}")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    chosen = {name: getattr(args, name) for name in asdict(Sizes())}
    sizes = replace(SMALL if args.small else Sizes(), **{k: v for k, v in chosen.items() if v})
    generate(args.database_url, sizes, args.seed)


if __name__ == "__main__":
    main(sys.argv[1:])
