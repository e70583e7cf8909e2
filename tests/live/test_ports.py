"""A server's port is never free for another to take, from the moment it is chosen until the
server stops: test workers run servers side by side, and a port found free, let go and bound later
could be taken meanwhile by another worker's server (whose answers the test would then read)."""

import errno
import smtplib
import socket

import pytest
import requests

from bench.chat_server import COMMANDS, HOST, Server, app_environment, listening_socket
from tests.mail_fixtures import SMTPServer, start_smtp_server


def taken(port: int) -> bool:
    """Whether another server could not listen on ``port`` now. Servers set ``SO_REUSEADDR``, as
    this does, so connections closed a moment ago (``TIME_WAIT``) do not count: only a socket
    still bound to the port does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            other.bind((HOST, port))
        except OSError as error:
            assert error.errno == errno.EADDRINUSE
            return True
        return False


@pytest.mark.parametrize("kind", ["gevent", "threading"])
def test_a_servers_port_stays_its_own_before_it_starts_and_across_a_restart(tmp_path, kind):
    """(Its health check needs a database, not a migrated one.)"""
    env = app_environment(f"sqlite:///{tmp_path / 'empty.db'}", "x" * 40, folder=tmp_path)
    server = Server(COMMANDS[kind], env, tmp_path / "server.log")
    try:
        assert taken(server.port), "held before the server starts"
        server.start()
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        server.kill()
        assert taken(server.port), "held while the server is down, for its restart"
        server.start()
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
    assert not taken(server.port), "let go once the server stops"


def test_the_test_smtp_server_holds_its_port_from_the_start_and_across_a_restart():
    """(tests/mail_fixtures.py's ``smtp_server``.)"""
    listener = listening_socket()
    port = listener.getsockname()[1]
    try:
        assert taken(port), "held before the server starts"
        handler = SMTPServer()
        start_smtp_server(handler, listener).stop()
        assert taken(port), "held while the server is down, for its restart"
        controller = start_smtp_server(handler, listener)
        try:
            with smtplib.SMTP(HOST, port, timeout=10) as client:
                client.sendmail(
                    "a@trust.nhs.uk", ["b@trust.nhs.uk"], b"To: b@trust.nhs.uk\r\n\r\nHi"
                )
        finally:
            controller.stop()
        assert [message["To"] for _, message in handler.received] == ["b@trust.nhs.uk"]
    finally:
        listener.close()
    assert not taken(port), "let go once the server stops"


def test_a_refused_port_refuses_connections_and_nobody_else_can_listen_on_it(refused_port):
    assert taken(refused_port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, refused_port), timeout=10).close()
