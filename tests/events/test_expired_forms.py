"""A form refused before it is read (it had expired, or its page was opened before the sign-in
it belongs to ended) gives back what was written in it, to copy: the event's description as well
as its title, and a message or question from the chat's plain forms."""

import pytest

from tests.accounts.pages import Page
from tests.events.conftest import form_for


def test_an_expired_event_form_gives_back_its_title_and_description(client, sig, moderator, login):
    login(client, moderator)
    description = "What worked in Lancashire & South Cumbria, and <what> did not."
    response = client.post(
        f"/spaces/{sig.slug}/events/new", data=form_for(description=description), csrf=False
    )
    assert response.status_code == 400
    page = Page(response)
    assert "had expired" in page.main_text
    assert page.values["description"] == description
    assert page.values["title"] == form_for()["title"]


@pytest.mark.parametrize(("form", "path"), [("message", "chat"), ("question", "questions")])
def test_an_expired_chat_form_gives_back_what_was_written(
    client, live_event, member, login, form, path
):
    login(client, member())
    text = "Does the QMS assurance template cover <community> services?"
    response = client.post(
        f"/events/{live_event.id}/{path}",
        data={f"{form}-body": text, f"{form}-client_id": "c1"},
        csrf=False,
    )
    assert response.status_code == 400
    assert Page(response).values[f"{form}-body"] == text
