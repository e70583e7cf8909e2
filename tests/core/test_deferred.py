"""Work left for after the response (``core.deferred``: e-mail) runs once the server has taken
the whole answer, even from a server that never closes the response, and runs only once.

Werkzeug's development server, which the embedded default runs, skips the close when the browser
resets the connection after a redirect; e-mail waiting for the close was then never sent."""

from tests.conftest import PASSWORD

SUBJECT = "Your peerlearn account was signed out of other browsers"


def test_email_after_a_redirect_is_sent_although_the_server_never_closes_the_response(
    client, new_client, make_user, login, outbox
):
    user = make_user()
    login(client, user)
    login(new_client(), user)

    # Answered, but the server has not taken the body yet: nothing is sent so far.
    response = client.post(
        "/account/sign-out-elsewhere", data={"password": PASSWORD}, buffered=False
    )
    assert response.status_code == 302
    assert outbox.to(user.email) == []

    response.get_data()  # the server sends the body, then drops the connection: no close
    assert [mail.subject for mail in outbox.to(user.email)] == [SUBJECT]

    response.close()  # a server that does close it as well: still one e-mail
    assert [mail.subject for mail in outbox.to(user.email)] == [SUBJECT]


def test_a_download_passed_straight_to_the_server_is_left_as_it_is(app):
    with app.test_request_context():
        response = app.response_class([b"chunk"], direct_passthrough=True)
    body = response.get_app_iter({"REQUEST_METHOD": "GET"})
    assert body is response.response  # the server's file wrapper (sendfile) still recognises it
