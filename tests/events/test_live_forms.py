"""The event page's live chat without JavaScript: the history, pinned messages and Q&A rendered on
the server, and plain forms to post a message, ask a question and vote, under the chat's rules."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peerlearn.core.db import utcnow
from peerlearn.core.templating import local_time
from peerlearn.events import chat, questions, rsvps, services
from peerlearn.events.models import ChatMessage, Event, Question, RsvpStatus
from peerlearn.extensions import db
from peerlearn.spaces import memberships
from peerlearn.spaces import services as spaces
from tests.events.chat_helpers import ask, received, stored_messages


@pytest.fixture
def signed_in(new_client, login):
    def make(user):
        client = new_client()
        login(client, user)
        return client

    return make


def page_of(client, event, query=""):
    response = client.get(f"/events/{event.id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def say(client, event, body, client_id="form-1"):
    return client.post(
        f"/events/{event.id}/chat",
        data={"message-body": body, "message-client_id": client_id},
    )


def pose(client, event, body, client_id="q-1"):
    return client.post(
        f"/events/{event.id}/questions",
        data={"question-body": body, "question-client_id": client_id},
    )


def in_days(space, moderator, days):
    """An event in the space ``days`` from now (before now when negative), 90 minutes long."""
    starts = utcnow() + timedelta(days=days)
    event = Event(
        space=space,
        created_by=moderator,
        title="Monthly call",
        venue="Preston",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
    )
    db.session.add(event)
    db.session.commit()
    return event


def stored(model):
    return db.session.scalar(select(func.count()).select_from(model))


def question_order(html):
    return [int(i) for i in re.findall(r'data-question-id="(\d+)"', html)]


def test_a_member_posts_a_message_with_the_plain_form_and_sees_it_in_the_chat(
    live_event, member, signed_in
):
    client = signed_in(member("Aisha Khan"))
    page = page_of(client, live_event)
    assert f'action="/events/{live_event.id}/chat"' in page
    assert "Send message" in page

    response = say(client, live_event, "See the **board** paper: https://example.org/qms")
    assert response.status_code == 302
    message = db.session.scalar(select(ChatMessage))
    assert response.headers["Location"].endswith(f"/events/{live_event.id}#message-{message.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your message has been posted." in page
    assert f'id="message-{message.id}"' in page
    assert "<strong>board</strong>" in page and "Aisha Khan" in page

    # The same form sent twice (a reload after posting) stores the message once.
    assert say(client, live_event, "See the **board** paper").status_code == 302
    assert stored(ChatMessage) == 1


def test_until_the_live_chat_says_who_is_here_the_page_says_who_is_going(
    live_event, member, signed_in
):
    """Without JavaScript (or before the chat connects) "Who is here" says who answered going,
    and "nobody yet" rather than "0 people"."""
    reader = member()
    client = signed_in(reader)
    assert "Nobody has said they are going yet." in page_of(client, live_event)
    rsvps.set_rsvp(reader, live_event, RsvpStatus.going)
    assert "1 person has said they are going." in page_of(client, live_event)


def test_a_refused_message_shows_the_error_beside_the_box_and_keeps_the_text(
    live_event, member, signed_in
):
    client = signed_in(member())
    long_text = "Flow " * 401  # 2,005 characters
    response = say(client, live_event, long_text)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<title>Error: QMS in practice" in page
    assert "There is a problem" in page
    assert 'href="#message-body"' in page
    assert "Messages can be up to 2,000 characters" in page
    assert "nhsuk-textarea--error" in page
    assert long_text.strip() in page
    assert stored(ChatMessage) == 0

    empty = say(client, live_event, "", client_id="form-2").get_data(as_text=True)
    assert "Write a message" in empty and stored(ChatMessage) == 0


def test_a_member_asks_and_votes_and_the_questions_sort_by_votes_or_time(
    live_event, member, signed_in
):
    aisha, rachel = signed_in(member("Aisha Khan")), signed_in(member("Rachel Moss"))
    response = pose(aisha, live_event, "How do you report QMS maturity to the board?")
    assert response.status_code == 302
    assert (
        pose(rachel, live_event, "Which SPC tool do you use?", client_id="q-2").status_code == 302
    )
    first, second = db.session.scalars(select(Question.id).order_by(Question.id))
    assert question_order(page_of(aisha, live_event)) == [first, second]

    # Aisha votes for Rachel's question: it goes to the top, her button shows the vote.
    voted = aisha.post(f"/events/{live_event.id}/questions/{second}/vote", data={"up": "1"})
    assert voted.status_code == 302
    assert voted.headers["Location"].endswith(f"#question-{second}")
    page = aisha.get(voted.headers["Location"]).get_data(as_text=True)
    assert "Your vote has been counted." in page
    assert question_order(page) == [second, first]
    item = page[page.index(f'id="question-{second}"') :]
    assert re.search(r'data-vote-count>1<.*?aria-pressed="true"', item, re.S)
    assert re.search(r'name="up" value="0"', item)

    # Sorted by time, the order asked; voting keeps the reader's sort.
    assert question_order(page_of(aisha, live_event, "?qa=time")) == [first, second]
    back = aisha.post(f"/events/{live_event.id}/questions/{second}/vote?qa=time", data={"up": "0"})
    assert "qa=time" in back.headers["Location"]
    assert db.session.get(Question, second).vote_count == 0


def test_plain_form_votes_share_the_members_vote_limit(live_event, member, signed_in, chatter):
    voter = member("Vic Voter")
    question, _ = questions.ask(member(), live_event, "Which measures?", "q")
    socket = chatter(voter)
    for n in range(20):
        assert ask(socket, "vote", {"question_id": question.id, "up": n % 2 == 0})["ok"]
    url = f"/events/{live_event.id}/questions/{question.id}/vote"
    page = signed_in(voter).post(url, data={"up": "1"}, follow_redirects=True)
    assert "You are sending too quickly: wait a moment" in page.get_data(as_text=True)
    assert db.session.get(Question, question.id).vote_count == 0


def test_a_closed_chat_is_read_only_and_refuses_the_forms(live_event, moderator, member, signed_in):
    aisha = member("Aisha Khan")
    client = signed_in(aisha)
    assert say(client, live_event, "Before the close").status_code == 302
    chat.close(moderator, live_event)

    page = page_of(client, live_event)
    assert "The chat has closed" in page
    assert "Before the close" in page
    assert f'href="/events/{live_event.id}/transcript"' in page
    assert "data-composer hidden" in page

    refused = say(client, live_event, "After the close", client_id="form-2")
    assert refused.status_code == 200
    assert "A moderator has closed the chat" in refused.get_data(as_text=True)
    refused = pose(client, live_event, "Too late?")
    assert "A moderator has closed the chat" in refused.get_data(as_text=True)
    assert stored(ChatMessage) == 1 and stored(Question) == 0


def test_a_chat_not_yet_open_or_over_says_when_it_opens_or_that_it_is_over(
    sig, moderator, member, signed_in
):
    client = signed_in(member())
    later = in_days(sig, moderator, 2)
    opens = later.starts_at - timedelta(minutes=30)  # PEERLEARN_CHAT_OPENS_MINUTES
    refused = say(client, later, "Too early?").get_data(as_text=True)
    assert f"The chat opens at {local_time(opens, '%H:%M on %A %-d %B %Y')}" in refused
    over = in_days(sig, moderator, -2)
    assert "The chat has closed: the event is over" in say(client, over, "Too late?").get_data(
        as_text=True
    )
    assert stored(ChatMessage) == 0


def _stop_posting(reason, event, moderator, writer):
    """Whatever stops ``writer`` posting in the event's chat, after their page was shown."""
    if reason == "closed":
        chat.post_message(moderator, event, "Thanks for coming", "m-1")
    if reason.startswith("closed"):
        chat.close(moderator, event)
    elif reason == "muted":
        chat.set_muted(moderator, event, writer, True)
    elif reason == "cancelled":
        services.cancel_event(moderator, event)
    else:
        memberships.remove_member(moderator, spaces.get_membership(event.space, writer))


@pytest.mark.parametrize("name", ["message", "question"])
@pytest.mark.parametrize(
    ("reason", "error", "status"),
    [
        ("closed", "A moderator has closed the chat", 200),
        ("closed before anyone wrote", "A moderator has closed the chat", 200),
        ("muted", "A moderator has muted you in this chat", 200),
        ("cancelled", "The event was cancelled: its chat is closed", 200),
        ("removed from the space", "Only members of the space can take part in this chat", 403),
    ],
)
def test_text_posted_once_posting_is_over_stays_on_screen_beside_its_error(
    live_event, moderator, member, signed_in, name, reason, error, status
):
    """A post refused because its writer can no longer post at all keeps their text, read-only,
    under the error summary and beside the error, however empty the chat is."""
    writer = member("Aisha Khan")
    client = signed_in(writer)
    assert "Send message" in page_of(client, live_event)
    _stop_posting(reason, live_event, moderator, writer)

    text = "Our flow coaches & the *board*: what worked?"
    response = (say if name == "message" else pose)(client, live_event, text)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert "<title>Error: QMS in practice" in page
    assert "There is a problem" in page and f'href="#{name}-body"' in page
    beside = rf'id="{name}-body-error"\s*>\s*<span[^>]*>Error: </span>{re.escape(error)}\s*</span>'
    assert re.search(beside, page)
    box = re.search(rf'<textarea[^>]*id="{name}-body"[^>]*>([^<]*)</textarea>', page)
    assert " readonly" in box.group(0) and f"{name}-body-held" in box.group(0)
    assert html.unescape(box.group(1)) == text
    assert f"Your {name} has not been sent. It stays here so that you can copy it." in page
    composer = page[page.rindex("<div data-composer", 0, box.start()) : box.start()]
    assert "hidden" not in composer.split(">", 1)[0]
    assert stored(ChatMessage) == (1 if reason == "closed" else 0) and stored(Question) == 0


def test_text_refused_while_the_chat_is_open_stays_editable(live_event, member, signed_in):
    client = signed_in(member())
    page = say(client, live_event, "x" * 2001).get_data(as_text=True)
    box = re.search(r'<textarea[^>]*id="message-body"[^>]*>', page).group(0)
    assert " readonly" not in box and "message-body-held" not in box
    assert re.search(r'id="message-body-held" data-held-notice hidden', page)


def test_a_past_event_shows_its_history_and_an_unused_one_shows_no_chat(
    sig, moderator, member, signed_in
):
    client = signed_in(member())
    event = in_days(sig, moderator, -30)
    assert "Live chat" not in page_of(client, event)
    thanks = ChatMessage(
        event_id=event.id,
        author_id=moderator.id,
        client_id="old",
        body_source="Thanks all",
        body_html="<p>Thanks all</p>",
    )
    db.session.add(thanks)
    db.session.commit()
    page = page_of(client, event)
    assert "Live chat" in page and "Thanks all" in page and "The chat has closed" in page


def test_the_page_says_when_it_shows_only_the_latest_fifty_messages(live_event, member, signed_in):
    """Fifty messages are all shown; at the fifty-first, the page says earlier ones are only
    in the transcript."""
    author, client = member(), signed_in(member())
    stored_messages(live_event, author, range(1, 51))
    page = page_of(client, live_event)
    assert "Message 1<" in page and "Only the latest 50 messages are shown here" not in page
    stored_messages(live_event, author, [51])
    page = page_of(client, live_event)
    assert "Message 1<" not in page and "Message 51<" in page
    assert "Only the latest 50 messages are shown here" in page


def test_people_outside_the_space_cannot_post_ask_or_vote(
    live_event, make_user, member, signed_in, client
):
    author = member()
    questions.ask(author, live_event, "A question", "q-x")
    question = db.session.scalar(select(Question))
    outsider = signed_in(make_user("Not A Member"))
    assert say(outsider, live_event, "Let me in").status_code == 403
    assert pose(outsider, live_event, "And me?").status_code == 403
    vote = outsider.post(f"/events/{live_event.id}/questions/{question.id}/vote", data={"up": "1"})
    assert vote.status_code == 403
    assert "Send message" not in page_of(outsider, live_event)

    anonymous = say(client, live_event, "Hello")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert stored(ChatMessage) == 0 and db.session.get(Question, question.id).vote_count == 0


def test_a_muted_member_is_told_and_refused(live_event, moderator, member, signed_in):
    aisha = member("Aisha Khan")
    chat.set_muted(moderator, live_event, aisha, True)
    client = signed_in(aisha)
    assert "A moderator has muted you in this chat" in page_of(client, live_event)
    refused = say(client, live_event, "Can I speak?")
    assert "A moderator has muted you" in refused.get_data(as_text=True)
    assert stored(ChatMessage) == 0


def test_pinned_messages_are_shown_above_the_chat(live_event, moderator, member, signed_in):
    aisha = member("Aisha Khan")
    message, _ = chat.post_message(aisha, live_event, "The slides: https://example.org/s", "p-1")
    chat.set_pinned(moderator, message, True)
    page = page_of(signed_in(aisha), live_event)
    pinned = page.index("Pinned by the moderators")
    assert page.index(f'id="pinned-{message.id}"') > pinned
    assert page.index(f'id="message-{message.id}"') > page.index(f'id="pinned-{message.id}"')


def test_what_a_plain_form_posts_reaches_the_live_readers(live_event, member, signed_in, chatter):
    reader = chatter(member("Rachel Moss"))
    assert ask(reader, "join", {"event_id": live_event.id})["ok"]
    received(reader, "presence")
    client = signed_in(member("Aisha Khan"))
    say(client, live_event, "Posted without JavaScript")
    [message] = received(reader, "message")
    assert message["body_html"] == "<p>Posted without JavaScript</p>\n"
    pose(client, live_event, "Asked without JavaScript")
    [question] = received(reader, "question")
    assert question["votes"] == 0
    client.post(f"/events/{live_event.id}/questions/{question['id']}/vote", data={"up": "1"})
    assert [q["votes"] for q in received(reader, "question")] == [1]


def test_before_the_chat_opens_the_page_says_when_it_will(sig, moderator, member, signed_in):
    page = page_of(signed_in(member()), in_days(sig, moderator, 7))
    assert "The live chat and Q&amp;A open on this page at" in page
    assert "Send message" not in page
    # In how many seconds, by the server's clock: the page says so when the time comes.
    opens_in = int(re.search(r'data-chat-opens-in="(\d+)"', page).group(1))
    assert 7 * 86400 - 30 * 60 - 5 <= opens_in <= 7 * 86400 - 30 * 60


def test_slow_mode_asks_the_member_to_wait_and_keeps_the_text(
    live_event, moderator, member, signed_in
):
    chat.set_slow_mode(moderator, live_event, 60)
    client = signed_in(member())
    assert "one message every <span data-slow-mode-seconds>60</span> seconds" in page_of(
        client, live_event
    )
    assert say(client, live_event, "First").status_code == 302
    page = say(client, live_event, "Second, too soon", client_id="form-2").get_data(as_text=True)
    assert re.search(r"Slow mode is on: you can send another message in \d+ seconds", page)
    assert "Second, too soon</textarea>" in page
    assert stored(ChatMessage) == 1


def _question_item(page, question_id):
    start = page.index(f'id="question-{question_id}"')
    return page[start : page.index("</li>", start)]


def test_without_javascript_askers_withdraw_and_moderators_remove_for_every_reader(
    live_event, member, moderator, signed_in, chatter
):
    reader = chatter(member("Tom Reader"))
    assert ask(reader, "join", {"event_id": live_event.id})["ok"]
    aisha, rachel = signed_in(member("Aisha Khan")), signed_in(member("Rachel Moss"))
    pose(aisha, live_event, "Can we discuss Jane Doe, NHS number 943 476 5919?")
    pose(rachel, live_event, "Which SPC tool do you use?", client_id="q-2")
    mine, theirs = db.session.scalars(select(Question.id).order_by(Question.id))
    reader.get_received("/live")
    remove = f"/events/{live_event.id}/questions/{{}}/remove".format

    # Each asker has a plain form, with its CSRF token, on their own question only.
    page = page_of(aisha, live_event)
    own = _question_item(page, mine)
    assert "Withdraw<span" in own and 'name="csrf_token"' in own
    assert "Withdraw" not in _question_item(page, theirs)
    assert "Remove" not in _question_item(page, theirs)
    refused = rachel.post(remove(mine), data={"back": "event"}, follow_redirects=True)
    assert "You can only withdraw your own questions" in refused.get_data(as_text=True)
    assert aisha.post(remove(mine), data={"back": "event"}, csrf=False).status_code == 400
    assert received(reader, "question_removed") == []

    response = aisha.post(remove(mine), data={"back": "event"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#qa-heading")
    page = aisha.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your question has been withdrawn." in page and "943 476 5919" not in page
    assert received(reader, "question_removed") == [{"id": mine, "event_id": live_event.id}]
    # Pressed again by its asker, nothing more happens; anyone else finds nothing there.
    assert aisha.post(remove(mine), data={"back": "event"}).status_code == 302
    assert rachel.post(remove(mine), data={"back": "event"}).status_code == 404
    assert received(reader, "question_removed") == []

    # A moderator removes anyone's, here from the transcript, and goes back there.
    mod = signed_in(moderator)
    assert "Remove<span" in _question_item(page_of(mod, live_event), theirs)
    response = mod.post(remove(theirs), data={"back": "transcript"})
    assert response.headers["Location"].endswith(f"/events/{live_event.id}/transcript#questions")
    page = mod.get(response.headers["Location"]).get_data(as_text=True)
    assert "The question has been removed." in page and "SPC tool" not in page
    assert received(reader, "question_removed") == [{"id": theirs, "event_id": live_event.id}]
    assert "Nobody asked a question" in page  # removed questions are shown to nobody
