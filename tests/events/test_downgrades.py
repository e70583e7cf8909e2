"""Downgrading the schema below the chat's and the Q&A's removals never shows again what was
taken away: a hidden chat message stays out of sight (as a removed one), a withdrawn or removed
question does not come back, and notifications of kinds the earlier code cannot read go, so
its notification centre still opens."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from peerlearn.events import chat, questions
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.notifications.models import Notification, NotificationKind

#: The revision before the Q&A removals, the chat reports and the event-change notifications.
BEFORE = "a7d3e9f1c264"


def test_a_downgrade_keeps_hidden_and_removed_things_out_of_sight(live_event, member, moderator):
    author, voter = member("Ada Author"), member("Vic Voter")
    hidden, _ = chat.post_message(author, live_event, "Mrs Smith, NHS number 943 476 5919", "m1")
    shown, _ = chat.post_message(author, live_event, "Good morning all", "m2")
    chat.set_pinned(moderator, hidden, True)
    moderation.set_chat_message_hidden(moderator, hidden, True)
    removed, _ = questions.ask(author, live_event, "About Mrs Smith's ward round?", "q1")
    kept, _ = questions.ask(author, live_event, "How did you start?", "q2")
    questions.vote(voter, removed, True)
    questions.remove(moderator, removed)
    for kind in (NotificationKind.event_reinstated, NotificationKind.place_given):
        db.session.add(Notification(user_id=voter.id, kind=kind, event_id=live_event.id,
                                    space_id=live_event.space_id))  # fmt: skip
    db.session.commit()
    ids = {"hidden": hidden.id, "shown": shown.id, "removed": removed.id, "kept": kept.id}
    db.session.remove()

    downgrade(revision=BEFORE)
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, deleted_at FROM chat_messages"))
            messages = {id_: deleted_at is not None for id_, deleted_at in rows}
            pinned = connection.scalar(
                text("SELECT count(*) FROM chat_messages WHERE pinned_at IS NOT NULL")
            )
            asked = set(connection.scalars(text("SELECT id FROM questions")))
            kinds = set(connection.scalars(text("SELECT kind FROM notifications")))
    finally:
        upgrade()
    assert messages == {ids["hidden"]: True, ids["shown"]: False}
    assert pinned == 0
    assert asked == {ids["kept"]}
    assert kinds == {"place-given"}
