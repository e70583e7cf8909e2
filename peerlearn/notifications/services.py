"""Who hears about what: notification rows, the notification centre and the live header count.

Fan-out listens to the discussion signals, and to events' places given from a waiting list,
cancellations and new times or places; nothing here is called from the discussion or event views.
Every recipient is checked against the permission policy when a notification is made (for a
thread, its ``follow``: they may read the thread, and are not banned from its space), and again
when it is listed or counted: a private space's activity never reaches anyone outside it, even if
they were inside it when it happened. When that changes (a membership or a space's settings, from
the spaces signals), those affected are sent their new header count. E-mail (immediate, digests,
choices and unsubscribe links) is in :mod:`peerlearn.notifications.emails`.
"""

from collections.abc import Iterable
from typing import Any

from flask import current_app
from socketio import PubSubManager
from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.core.cache import forget, remember
from peerlearn.core.db import utcnow
from peerlearn.core.deferred import after_response
from peerlearn.core.signals import (
    event_cancelled,
    event_rearranged,
    event_reinstated,
    membership_changed,
    place_given,
    post_created,
    post_edited,
    post_marked,
    post_removed,
    post_restored,
    posts_read,
    space_changed,
    thread_changed,
)
from peerlearn.discussions.models import (
    FollowState,
    Post,
    SpaceSubscription,
    Thread,
    ThreadSubscription,
)
from peerlearn.events.changes import Rearrangement
from peerlearn.events.models import Event, Rsvp, RsvpStatus
from peerlearn.extensions import db, socketio
from peerlearn.notifications.emails import send_immediate_ids
from peerlearn.notifications.models import Notification, NotificationKind
from peerlearn.permissions import (
    Action,
    event_filter,
    event_readers,
    thread_allows,
    thread_and_post_filter,
)
from peerlearn.spaces.models import MemberState, Space
from peerlearn.spaces.services import memberships_in


def user_room(user_id: int) -> str:
    """The Socket.IO room of one signed-in member's own connections."""
    return f"user:{user_id}"


# Fan-out ----------------------------------------------------------------------------------------


def _reachable(thread: Thread, user_ids: Iterable[int]) -> dict[int, User]:
    """The active members among ``user_ids`` who may be told of the thread's activity (the
    policy's ``follow``: they may see it, and are not banned from its space), in two queries."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids), User.active)).all()
    memberships = memberships_in(thread.space, [user.id for user in users])
    return {
        user.id: user
        for user in users
        if thread_allows(user, Action.follow, thread, memberships.get(user.id))
    }


def notify(post: Post, planned: dict[int, NotificationKind], actor_id: int | None) -> list[int]:
    """Store one notification per planned recipient who may be told of the post; returns who
    got one."""
    thread = post.thread
    planned.pop(actor_id, None)  # type: ignore[arg-type]
    muted = set(
        db.session.scalars(
            select(ThreadSubscription.user_id).where(
                ThreadSubscription.thread_id == thread.id,
                ThreadSubscription.state == FollowState.muted,
            )
        )
    )
    recipients = _reachable(thread, (uid for uid in planned if uid not in muted))
    created = [
        Notification(
            user_id=user_id,
            kind=planned[user_id],
            actor_id=actor_id,
            space_id=thread.space_id,
            thread_id=thread.id,
            post_id=post.id,
        )
        for user_id in recipients
    ]
    _deliver(created)
    return list(recipients)


def _deliver(created: list[Notification]) -> None:
    """Store new notifications, update their recipients' live counts, and send the e-mail due at
    once when the page has been answered."""
    db.session.add_all(created)
    db.session.commit()
    push_counts({notification.user_id for notification in created})
    ids = [notification.id for notification in created]
    after_response(lambda: send_immediate_ids(ids), "immediate notification e-mail")


@post_created.connect
def _on_post_created(post: Post, mentioned: list[User], new_thread: bool) -> None:
    planned: dict[int, NotificationKind] = {}
    for user in mentioned:
        planned[user.id] = NotificationKind.mention
    if post.parent is not None and post.parent.author_id is not None:
        planned.setdefault(post.parent.author_id, NotificationKind.reply_to_post)
    if new_thread:
        followers = select(SpaceSubscription.user_id).where(
            SpaceSubscription.space_id == post.thread.space_id
        )
        for user_id in db.session.scalars(followers):
            planned.setdefault(user_id, NotificationKind.new_thread)
    else:
        followers = select(ThreadSubscription.user_id).where(
            ThreadSubscription.thread_id == post.thread_id,
            ThreadSubscription.state == FollowState.following,
        )
        for user_id in db.session.scalars(followers):
            planned.setdefault(user_id, NotificationKind.reply_in_thread)
    notify(post, planned, post.author_id)


@post_edited.connect
def _on_post_edited(post: Post, mentioned: list[User], by: User) -> None:
    # Told in the name of whoever added the mention: a moderator's edit is not the author's.
    if mentioned:
        notify(post, {user.id: NotificationKind.mention for user in mentioned}, by.id)


@post_marked.connect
def _on_post_marked(post: Post, how: str, by: User) -> None:
    if post.author_id is None or how == "unhelpful":
        return
    kind = NotificationKind.post_solved if how == "solved" else NotificationKind.post_helpful
    if not _told_before(post.author_id, kind, by.id, post.id):
        notify(post, {post.author_id: kind}, by.id)


def _told_before(user_id: int, kind: NotificationKind, actor_id: int, post_id: int) -> bool:
    """Whether this member was already told this by this person about this post: a mark taken
    back and given again (helpful clicked on, off and on) tells them once, not each time."""
    earlier = select(Notification.id).where(
        Notification.user_id == user_id,
        Notification.kind == kind,
        Notification.actor_id == actor_id,
        Notification.post_id == post_id,
    )
    return db.session.scalar(earlier.limit(1)) is not None


@place_given.connect
def _on_place_given(event: Event, user_ids: list[int]) -> None:
    """Tell each person given a place at the event from its waiting list (who may still see the
    event), in the centre and by e-mail at once (:attr:`NotificationKind.urgent`); nobody, if
    the event has finished or been cancelled by now: a place there is no news, and an urgent
    e-mail about it would send them to an event that is not happening."""
    if event.finished or event.cancelled:
        return
    readers = event_readers(event, user_ids)
    _deliver(
        [
            Notification(
                user_id=user_id,
                kind=NotificationKind.place_given,
                space_id=event.space_id,
                event_id=event.id,
            )
            for user_id in sorted(readers)
        ]
    )


@event_cancelled.connect
def _on_event_cancelled(event: Event, by: User) -> None:
    """Tell those who answered the event that it was cancelled."""
    if event.ends_at >= utcnow():
        _tell_answerers(event, NotificationKind.event_cancelled, by)


@event_reinstated.connect
def _on_event_reinstated(event: Event, by: User) -> None:
    """Tell those who answered the event, and were told it was cancelled, that it goes ahead
    after all (with their answers and places as they were)."""
    _tell_answerers(event, NotificationKind.event_reinstated, by)


@event_rearranged.connect
def _on_event_rearranged(event: Event, by: User, change: Rearrangement) -> None:
    """Tell those who answered the event its new time or place, and what it was before. An
    event that had finished (its record put right afterwards) tells nobody."""
    if change.was.ends_at >= utcnow():
        _tell_answerers(event, NotificationKind.event_rearranged, by, change.as_json())


def _tell_answerers(
    event: Event, kind: NotificationKind, by: User, change: dict[str, Any] | None = None
) -> None:
    """Notify everyone who answered the event "going" (with a place or waiting for one) or
    "interested", and may still see it, but not ``by``, who made the change; e-mail follows each
    one's choice for the event's space."""
    answered = select(Rsvp.user_id).where(
        Rsvp.event_id == event.id,
        Rsvp.status.in_([RsvpStatus.going, RsvpStatus.interested]),
        Rsvp.user_id != by.id,
    )
    readers = event_readers(event, db.session.scalars(answered))
    _deliver(
        [
            Notification(
                user_id=user_id,
                kind=kind,
                actor_id=by.id,
                space_id=event.space_id,
                event_id=event.id,
                change=change,
            )
            for user_id in sorted(readers)
        ]
    )


@thread_changed.connect
def _on_thread_changed(thread: Thread) -> None:
    """Keep a moved thread's notifications in its new space: the centre names that space, and
    the member's e-mail choice for it (not the one for the space it left) decides their e-mail."""
    moved = db.session.execute(
        update(Notification)
        .where(Notification.thread_id == thread.id, Notification.space_id != thread.space_id)
        .values(space_id=thread.space_id)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount:  # type: ignore[attr-defined]
        db.session.commit()
    # Hidden, shown again or moved out of (or into) someone's sight: its notifications leave or
    # rejoin their centres, so their header counts change too.
    push_counts(_unread_by(Notification.thread_id == thread.id))


@post_removed.connect
@post_restored.connect
def _on_post_removed_or_restored(post: Post) -> None:
    """A post removed or hidden takes its notifications out of the centre (a hidden one comes
    back when it is shown again): send the new counts to those who had it unread."""
    # The thread's id too: it leads the lookup (``notifications.post_id`` has no index).
    push_counts(
        _unread_by((Notification.thread_id == post.thread_id) & (Notification.post_id == post.id))
    )


@membership_changed.connect
def _on_membership_changed(space: Space, user: User, state: MemberState | None, **_: Any) -> None:
    """Someone left the space, was removed or banned (or joined, or changed role): which of its
    notifications they may see has changed, so send them their new header count. Any change is
    sent, not only an ending: a moderator made a member no longer sees hidden posts' ones."""
    push_counts([user.id])


@space_changed.connect
def _on_space_changed(space: Space, **_: Any) -> None:
    """A space's settings changed (made private, say): those with unread notifications from it
    may see more or fewer of them, so send them their new header counts."""
    push_counts(_unread_by(Notification.space_id == space.id))


def _unread_by(about: ColumnElement[bool]) -> list[int]:
    """The members with an unread notification matching ``about``."""
    return list(
        db.session.scalars(
            select(Notification.user_id).where(about, Notification.read_at.is_(None)).distinct()
        )
    )


# Reading ----------------------------------------------------------------------------------------


def _visible(user: User) -> Select[tuple[Notification]]:
    # A join, not "thread_id IN (every visible thread)": the member's own rows lead the plan. A
    # post hidden since (not the thread) takes its notifications away too, until it is shown; a
    # post removed since takes them away from everyone, moderators included, as from e-mail
    # (``Post.removed``): its placeholder has nothing to tell. Like the hidden ones, the few
    # removed posts are looked up as one short list (``ix_posts_removed``). One about an event
    # stays while they may see the event (its row keeps the event's space).
    removed_posts = select(Post.id).where(Post.deleted_at.is_not(None))
    about_thread = (
        Notification.thread_id.is_not(None)
        & thread_and_post_filter(user, Notification.post_id)
        & or_(Notification.post_id.is_(None), Notification.post_id.not_in(removed_posts))
    )
    about_event = Notification.event_id.is_not(None) & event_filter(user, Notification.space_id)
    return (
        select(Notification)
        .outerjoin(Thread, Thread.id == Notification.thread_id)
        .where(Notification.user_id == user.id, or_(about_thread, about_event))
    )


def unread_count(user: User) -> int:
    """Unread notifications about things the member may still see."""
    query = _visible(user).where(Notification.read_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


#: Seconds the header's count may be reused (the ``HEADER_COUNT_SECONDS`` setting; 0 turns it
#: off). Changes made here (a new notification, one marked read), to what notifications are
#: about (a post removed, hidden or shown again; a thread hidden, shown again or moved) and to
#: who may see them (a space joined, left or banned from; a space made private or public) clear
#: it at once, and push the new count to open pages; others (an account no longer an
#: administrator's) show within this delay, and straight away in the centre.
HEADER_COUNT_SECONDS = 5


def _header_count_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def header_count(user: User) -> int:
    """:func:`unread_count` for the header on every page, kept for a few seconds."""
    seconds = current_app.config.get("HEADER_COUNT_SECONDS", HEADER_COUNT_SECONDS)
    if seconds <= 0:
        return unread_count(user)
    return remember(_header_count_key(user.id), seconds, lambda: unread_count(user))


#: The centre's order: unread first, then newest first by the time each shows (ties, made in the
#: same instant, by id). Ids follow creation in use, but not where rows are dated afterwards
#: (the demo's, spread over weeks). Either order is a sort of the member's own rows, which
#: ``ix_notifications_user_unread`` finds (docs/performance.md).
CENTRE_ORDER = (
    Notification.read_at.is_not(None),
    Notification.created_at.desc(),
    Notification.id.desc(),
)


def centre_query(user: User) -> Select[tuple[Notification]]:
    """The notification centre: unread first, newest first."""
    return (
        _visible(user)
        .options(selectinload(Notification.actor), selectinload(Notification.space))
        .order_by(*CENTRE_ORDER)
    )


def threads_for(notifications: Iterable[Notification]) -> dict[int, Thread]:
    """The threads the notifications are about, in one query."""
    return _by_id(Thread, {n.thread_id for n in notifications if n.thread_id is not None})


def events_for(notifications: Iterable[Notification]) -> dict[int, Event]:
    """The events the notifications are about, in one query."""
    return _by_id(Event, {n.event_id for n in notifications if n.event_id is not None})


def _by_id(model: type[Any], ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


@posts_read.connect
def _on_posts_read(user: User, post_ids: list[int]) -> bool:
    """A thread page is about to show the member these posts: what told them of one is read,
    so the header it renders counts what is left; their other open pages are sent the new count
    once the page has gone. Nothing is written unless something is to be read (a member with
    nothing unread is not even asked: the header needs that count anyway). True when something
    was written, for the page to commit before it renders."""
    if not post_ids or header_count(user) == 0:
        return False
    unread = db.session.scalars(
        select(Notification.id).where(
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
            Notification.post_id.in_(post_ids),
        )
    ).all()
    if not unread:
        return False
    _read(user, unread)
    forget(_header_count_key(user.id))
    user_id = user.id
    after_response(lambda: push_counts([user_id]), "sending a header count")
    return True


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> None:
    """Mark some (or all) of the member's notifications read, and update their live count."""
    _read(user, notification_ids)
    db.session.commit()
    push_counts([user.id])


def _read(user: User, notification_ids: Iterable[int] | None) -> None:
    """Mark the member's unread notifications with these ids (or all of them) read, in the
    caller's unit of work."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        statement = statement.where(Notification.id.in_(list(notification_ids)))
    db.session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )


def push_counts(user_ids: Iterable[int]) -> None:
    """Send each member's current unread count to their open pages."""
    ids = list(user_ids)
    if not ids:
        return
    forget(*(_header_count_key(user_id) for user_id in ids))
    listening = _may_have_open_pages(ids)
    if not listening:
        return
    for user in db.session.scalars(select(User).where(User.id.in_(listening))):
        socketio.emit(
            "notifications", {"unread": unread_count(user)}, to=user_room(user.id), namespace="/"
        )


def _may_have_open_pages(user_ids: list[int]) -> list[int]:
    """The members whose pages may be connected to hear a count: with a message queue, any
    (another server process may hold their pages), else those connected to this process. A
    command (``seed-demo``, say) has no connections, so it counts nothing for nobody. A page that
    connects after this looked is sent its count on connecting, which sees what was committed."""
    manager = socketio.server.manager if socketio.server else None
    if manager is None:
        return []
    if isinstance(manager, PubSubManager):
        return user_ids
    return [i for i in user_ids if next(manager.get_participants("/", user_room(i)), None)]
