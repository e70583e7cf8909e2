"""The index follows every write through the services' signals: create, edit, remove, hide,
restore, move, visibility and membership changes, events and people; and the rebuild command."""

from __future__ import annotations

from sqlalchemy import func, select

from peerlearn.accounts import administration
from peerlearn.accounts import services as accounts
from peerlearn.accounts.services import Registration
from peerlearn.discussions import removal
from peerlearn.discussions import services as discussions
from peerlearn.events import services as events
from peerlearn.events.services import EventDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.search import indexing
from peerlearn.search.models import SearchDocument
from peerlearn.search.services import search
from peerlearn.spaces import memberships
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import JoinPolicy, MemberRole, MemberState, Visibility
from tests.conftest import PASSWORD


def test_a_new_reply_and_its_edit_are_searchable_at_once(
    new_thread, new_reply, author, find
) -> None:
    post = new_reply(new_thread(), "We use a driver diagram.")
    assert find(author, "driver diagram") == [("post", post.id)]
    discussions.edit_post(author, post, "We use a fishbone instead.")
    assert find(author, "driver diagram") == []
    assert find(author, "fishbone") == [("post", post.id)]


def test_editing_an_opening_post_and_title_reindexes_the_thread(new_thread, author, find) -> None:
    thread = new_thread("Old title", "Old words.")
    opening = db.session.scalar(
        select(discussions.Post).where(discussions.Post.thread_id == thread.id)
    )
    discussions.edit_post(author, opening, "Fresh words.", title="Renamed thread")
    assert find(author, "old") == []
    assert find(author, "renamed fresh") == [("thread", thread.id)]


def test_removed_posts_leave_the_index_and_hidden_ones_only_moderators_find(
    new_thread, new_reply, author, member, find
) -> None:
    reader = member("Tom Reid")
    thread = new_thread()
    removed = new_reply(thread, "Removed pareto chart.", by=reader)
    hidden = new_reply(thread, "Hidden histogram.", by=reader)
    removal.delete_post(reader, removed)
    moderation.set_post_hidden(author, hidden, True)
    assert find(reader, "pareto") == [] and find(author, "pareto") == []
    assert find(reader, "histogram") == []
    assert find(author, "histogram") == [("post", hidden.id)]  # the moderator
    moderation.set_post_hidden(author, hidden, False)
    assert find(reader, "histogram") == [("post", hidden.id)]


def test_a_hidden_opening_post_takes_its_text_out_of_the_thread(
    new_thread, author, member, find
) -> None:
    reader = member("Tom Reid")
    thread = new_thread("Visible title", "Secret sauce.", by=reader)
    opening = db.session.scalar(
        select(discussions.Post).where(discussions.Post.thread_id == thread.id)
    )
    moderation.set_post_hidden(author, opening, True)
    assert find(reader, "sauce") == []
    assert find(reader, "visible title") == [("thread", thread.id)]
    moderation.set_post_hidden(author, opening, False)
    assert find(reader, "sauce") == [("thread", thread.id)]


def test_hidden_threads_are_found_only_by_moderators(
    new_thread, new_reply, author, member, find
) -> None:
    reader = member("Tom Reid")
    thread = new_thread("Gemba walks", "Go and see.")
    reply = new_reply(thread, "Gemba every Tuesday.")
    moderation.set_thread_flag(author, thread, "hidden", True)
    assert find(reader, "gemba") == []
    assert set(find(author, "gemba")) == {("thread", thread.id), ("post", reply.id)}
    moderation.set_thread_flag(author, thread, "hidden", False)
    assert len(find(reader, "gemba")) == 2


def test_a_moved_thread_follows_into_its_new_space(
    new_thread, new_reply, author, make_space, add_member, make_user, find
) -> None:
    private = make_space("Board secrets", visibility=Visibility.private)
    add_member(private, author, MemberRole.moderator)
    outsider = make_user("Outsider")
    thread = new_thread("Waiting list validation", "Validate weekly.")
    reply = new_reply(thread, "Validation saves clinic slots.")
    assert len(find(outsider, "validation")) == 2
    moderation.move_thread(author, thread, private)
    assert find(outsider, "validation") == []
    assert set(find(author, "validation", space_id=private.id)) == {
        ("thread", thread.id), ("post", reply.id),
    }  # fmt: skip


def test_a_move_is_followed_in_its_own_transaction_even_when_indexing_fails(
    new_thread, new_reply, author, make_space, add_member, make_user, find, monkeypatch, caplog
) -> None:
    """Search decides who may see a thread and its replies from the index's copy of their space,
    so the copy moves with the thread in the move's own transaction, not in the signal receiver
    that refreshes the rest of the row afterwards (which may fail)."""
    private = make_space("Board secrets", visibility=Visibility.private)
    add_member(private, author, MemberRole.moderator)
    outsider = make_user("Outsider")
    thread = new_thread("Waiting list validation", "Validate weekly.")
    new_reply(thread, "Validation saves clinic slots.")

    def broken(kind, object_id):
        raise RuntimeError("the search database is away")

    monkeypatch.setattr(indexing, "refresh", broken)
    moderation.move_thread(author, thread, private)
    assert "search index update failed" in caplog.text
    results = search(outsider, "validation")
    assert list(results) == [] and results.counts == {}
    assert len(find(author, "validation", space_id=private.id)) == 2


def test_a_copy_of_a_space_left_behind_shows_nothing(
    new_thread, new_reply, author, make_space, add_member, make_user, find, caplog
) -> None:
    """Should a row's copy of its space ever be wrong (a database restored by hand, say), the
    policy's check of each result shown still keeps its words from a reader who may not open
    it."""
    private = make_space("Board secrets", visibility=Visibility.private)
    add_member(private, author, MemberRole.moderator)
    outsider = make_user("Outsider")
    thread = new_thread("Waiting list validation", "Validate weekly.", space=private)
    reply = new_reply(thread, "Validation saves clinic slots.")
    documents = SearchDocument.__table__
    public = make_space("Everyone", visibility=Visibility.public)
    with db.engine.begin() as connection:  # a copy gone wrong
        connection.execute(
            documents.update()
            .where(documents.c.kind == "post", documents.c.object_id == reply.id)
            .values(space_id=public.id)
        )
    assert find(outsider, "validation") == []
    assert "search index out of step" in caplog.text
    indexing.reindex_all()
    assert search(outsider, "validation").counts == {}


def test_a_space_turned_private_disappears_for_non_members(
    sig, new_thread, new_event, author, make_user, find
) -> None:
    outsider = make_user("Outsider")
    new_thread("Statistical thinking", "Common cause variation.")
    new_event("Statistical thinking live")
    assert len(find(outsider, "statistical")) == 2
    data = spaces.SpaceData(sig.name, "Renamed summary", "", Visibility.private, JoinPolicy.request)
    spaces.update_space(author, sig, data)
    assert find(outsider, "statistical") == []
    assert len(find(author, "statistical")) == 2


def test_membership_changes_change_what_is_found(
    make_space, new_thread, author, add_member, make_user, find
) -> None:
    private = make_space("Private group", visibility=Visibility.private)
    add_member(private, author, MemberRole.moderator)
    thread = new_thread("Measurement for improvement", "Run charts.", space=private)
    person = make_user("Newcomer")
    assert find(person, "measurement") == []
    memberships.invite(author, private, person.email)
    assert find(person, "measurement") == []  # invited is not yet a member
    membership = spaces.get_membership(private, person)
    assert membership.state is MemberState.invited
    memberships.join_space(person, private)
    assert find(person, "measurement") == [("thread", thread.id)]
    memberships.ban(author, private, person)
    assert find(person, "measurement") == []


def test_events_are_indexed_when_created_edited_and_cancelled(sig, new_event, author, find) -> None:
    event = new_event("Lean for leaders", "An introduction.")
    assert find(author, "lean") == [("event", event.id)]
    draft = EventDraft(
        "Kaizen for leaders", "An introduction.", event.starts_at, event.ends_at,
        joining_url=event.joining_url,
    )  # fmt: skip
    events.update_event(author, event, draft)
    assert find(author, "lean") == []
    assert find(author, "kaizen") == [("event", event.id)]
    events.cancel_event(author, event)
    assert find(author, "kaizen") == [("event", event.id)]  # listed, marked cancelled


def test_people_are_indexed_when_they_register_and_edit_their_profile(
    make_user, make_organisation, find
) -> None:
    reader = make_user("Reader")
    organisation = make_organisation("Wirral University Teaching Hospital")
    data = Registration(
        "nia.obi@wuth.nhs.uk", "Nia Obi", "Flow Lead", organisation.id, PASSWORD + " more"
    )
    person = accounts.register_user(data)
    assert find(reader, "obi") == []  # not confirmed yet
    person.email_confirmed_at = person.created_at
    db.session.commit()
    assert find(reader, "obi") == [("person", person.id)]
    accounts.update_profile(
        person, display_name="Nia Obi", job_title="Improvement Director",
        organisation_id=organisation.id, bio="",
    )  # fmt: skip
    assert find(reader, "director") == [("person", person.id)]
    assert find(reader, "flow lead") == []
    administration.set_active(make_user("Admin", admin=True), person, False)
    assert find(reader, "obi") == []


def test_the_reindex_command_rebuilds_everything_and_is_idempotent(
    app, new_thread, new_reply, new_event, author, find
) -> None:
    thread = new_thread("Theory of constraints", "Find the bottleneck.")
    new_reply(thread, "The bottleneck moved.")
    new_event("Constraints clinic")
    db.session.execute(SearchDocument.__table__.delete())
    db.session.commit()
    assert find(author, "constraints") == []

    runner = app.test_cli_runner()
    first = runner.invoke(args=["search-reindex"])
    assert first.exit_code == 0, first.output
    assert "Discussions: 1" in first.output and "Replies: 1" in first.output
    assert "Events: 1" in first.output and "Indexed" in first.output
    count = db.session.scalar(select(func.count()).select_from(SearchDocument))
    second = runner.invoke(args=["search-reindex"])
    assert second.exit_code == 0, second.output
    assert db.session.scalar(select(func.count()).select_from(SearchDocument)) == count
    assert len(find(author, "constraints")) == 2
    assert find(author, "bottleneck moved") == find(author, "moved")
