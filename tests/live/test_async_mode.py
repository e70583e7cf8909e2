"""The Socket.IO async mode is chosen by configuration and must match the server it runs in."""

import subprocess
import sys
import textwrap

import pytest

from bench.chat_server import ROOT, app_environment
from tests.databases import POSTGRES_URL


@pytest.fixture
def run(tmp_path):
    """Run a command with an app's environment (none of these get as far as the database)."""

    def command(arguments: list[str], **variables: str) -> subprocess.CompletedProcess[str]:
        env = app_environment(f"sqlite:///{tmp_path / 'unused.db'}", "x" * 40, folder=tmp_path)
        return subprocess.run(
            arguments, cwd=ROOT, env={**env, **variables}, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip

    return command


def test_the_embedded_server_refuses_gevent_mode(run):
    flask = [sys.executable, "-m", "flask", "--app", "peerlearn", "routes"]
    done = run(flask, PEERLEARN_ASYNC_MODE="gevent")
    assert done.returncode != 0
    assert "PEERLEARN_ASYNC_MODE=gevent needs a gevent server" in done.stderr


def test_the_gevent_worker_refuses_threading_mode(run):
    gunicorn = [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--bind",
                "127.0.0.1:0", "wsgi:app"]  # fmt: skip
    done = run(gunicorn, PEERLEARN_ASYNC_MODE="threading")
    assert done.returncode != 0, "gunicorn stops when its worker cannot boot"
    assert "PEERLEARN_ASYNC_MODE=gevent needs a gevent server" in done.stderr


@pytest.mark.skipif(not POSTGRES_URL, reason="PEERLEARN_TEST_DATABASE_URL is unset")
def test_a_postgresql_query_under_gevent_lets_other_connections_run(run):
    """psycopg (3.1.14+) waits cooperatively once gevent has patched the process first."""
    script = textwrap.dedent("""
        from gevent import monkey
        monkey.patch_all()
        import sys
        import gevent
        import psycopg

        ran_meanwhile = []
        querying = gevent.event.Event()

        def other_connection():
            querying.wait()
            ran_meanwhile.append(True)

        gevent.spawn(other_connection)
        with psycopg.connect(sys.argv[1]) as connection:
            querying.set()
            connection.execute("SELECT pg_sleep(0.3)")
            print("ran meanwhile" if ran_meanwhile else "blocked")
    """)
    done = run([sys.executable, "-c", script, POSTGRES_URL])
    assert done.stdout.strip() == "ran meanwhile", done.stderr
