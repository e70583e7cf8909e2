"""The mail service against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from peerlearn.core.mail import one_connection, send_mail


def test_messages_in_one_block_share_a_connection_and_survive_the_server_hanging_up(
    app, smtp_server
) -> None:
    with one_connection():
        send_mail("a@trust.nhs.uk", "First", "One.")
        send_mail("b@trust.nhs.uk", "Second", "Two.")
        assert smtp_server.connections == 1
        smtp_server.restart()  # the server drops every connection, as an idle timeout would
        send_mail("c@trust.nhs.uk", "Third", "Three.")
    assert [message["Subject"] for _, message in smtp_server.received] == [
        "First", "Second", "Third",
    ]  # fmt: skip
    assert smtp_server.connections == 2


def test_outside_a_block_each_message_has_its_own_connection(app, smtp_server) -> None:
    send_mail("a@trust.nhs.uk", "First", "One.", headers={"List-Unsubscribe": "<https://x/u>"})
    send_mail("b@trust.nhs.uk", "Second", "Two.", html="<p>Two.</p>")
    (first,) = smtp_server.to("a@trust.nhs.uk")
    assert first["List-Unsubscribe"] == "<https://x/u>"
    (second,) = smtp_server.to("b@trust.nhs.uk")
    assert second.get_body(preferencelist=("html",)).get_content().strip() == "<p>Two.</p>"
    assert smtp_server.connections == 2


def test_a_long_unsubscribe_link_reaches_mail_clients_as_written(app, smtp_server) -> None:
    """RFC 2369 and RFC 8058: a mail client offers its own unsubscribe button when the header
    holds the link in angle brackets. Folded into encoded words ("=?utf-8?q?=3Chttps..."), as
    Python does to a header longer than a line with no space to fold at, it holds no link."""
    link = "<https://peerlearn.example/notifications/unsubscribe/" + "eyJ1aWQiOjIs.awbAaA" * 6 + ">"
    headers = {"List-Unsubscribe": link, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    send_mail("a@trust.nhs.uk", "First", "One.", headers=headers)
    (raw,) = smtp_server.raw
    lines = raw.decode("ascii").splitlines()
    assert f"List-Unsubscribe: {link}" in lines
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
