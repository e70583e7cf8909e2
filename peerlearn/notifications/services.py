"""Who hears about what, and how: notification rows, the live header count, and e-mail.

Fan-out listens to the discussion signals; nothing here is called from the discussion views.
Every recipient is checked against the permission policy when a notification is made, again when
it is listed or counted, and again when it is e-mailed: a private space's activity never reaches
anyone outside it, even if they were inside it when it happened.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.accounts.services import external_url
from peerlearn.accounts.tokens import address_mark, make_token, read_token
from peerlearn.core.cache import forget, remember
from peerlearn.core.db import insert_into, utcnow
from peerlearn.core.deferred import after_response
from peerlearn.core.mail import one_connection, send_mail
from peerlearn.core.signals import post_created, post_edited, post_marked, thread_changed
from peerlearn.discussions.models import (
    FollowState,
    Post,
    SpaceSubscription,
    Thread,
    ThreadSubscription,
)
from peerlearn.extensions import db, socketio
from peerlearn.notifications.models import (
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationSettings,
    SpaceEmailPreference,
)
from peerlearn.permissions import Action, thread_allows, thread_and_post_filter
from peerlearn.spaces.models import Space
from peerlearn.spaces.services import memberships_in

logger = logging.getLogger(__name__)


def user_room(user_id: int) -> str:
    """The Socket.IO room of one signed-in member's own connections."""
    return f"user:{user_id}"


# Fan-out ----------------------------------------------------------------------------------------


def _visible_to(thread: Thread, user_ids: Iterable[int]) -> dict[int, User]:
    """The active members among ``user_ids`` who may see the thread, in two queries."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids), User.active)).all()
    memberships = memberships_in(thread.space, [user.id for user in users])
    return {
        user.id: user
        for user in users
        if thread_allows(user, Action.view, thread, memberships.get(user.id))
    }


def notify(post: Post, planned: dict[int, NotificationKind], actor_id: int | None) -> list[int]:
    """Store one notification per planned recipient who may see the post; returns who got one."""
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
    recipients = _visible_to(thread, (uid for uid in planned if uid not in muted))
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
    db.session.add_all(created)
    db.session.commit()
    delivered = list(recipients)
    push_counts(delivered)
    ids = [notification.id for notification in created]
    after_response(lambda: send_immediate_ids(ids), "immediate notification e-mail")
    return delivered


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
def _on_post_edited(post: Post, mentioned: list[User]) -> None:
    if mentioned:
        notify(post, {user.id: NotificationKind.mention for user in mentioned}, post.author_id)


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


# Reading ----------------------------------------------------------------------------------------


def _visible(user: User) -> Select[tuple[Notification]]:
    # A join, not "thread_id IN (every visible thread)": the member's own rows lead the plan. A
    # post hidden since (not the thread) takes its notifications away too, until it is shown.
    return (
        select(Notification)
        .join(Thread, Thread.id == Notification.thread_id)
        .where(Notification.user_id == user.id, thread_and_post_filter(user, Notification.post_id))
    )


def unread_count(user: User) -> int:
    """Unread notifications about things the member may still see."""
    query = _visible(user).where(Notification.read_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


#: Seconds the header's count may be reused (the ``HEADER_COUNT_SECONDS`` setting; 0 turns it
#: off). Changes made here (a new notification, one marked read) clear it at once; other changes
#: to what the member may see (a hidden thread, a space left) show within this delay, and
#: straight away in the notification centre.
HEADER_COUNT_SECONDS = 5


def _header_count_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def header_count(user: User) -> int:
    """:func:`unread_count` for the header on every page, kept for a few seconds."""
    seconds = current_app.config.get("HEADER_COUNT_SECONDS", HEADER_COUNT_SECONDS)
    if seconds <= 0:
        return unread_count(user)
    return remember(_header_count_key(user.id), seconds, lambda: unread_count(user))


def centre_query(user: User) -> Select[tuple[Notification]]:
    """The notification centre: unread first, newest first."""
    return (
        _visible(user)
        .options(selectinload(Notification.actor), selectinload(Notification.space))
        .order_by(Notification.read_at.is_not(None), Notification.id.desc())
    )


def threads_for(notifications: Iterable[Notification]) -> dict[int, Thread]:
    """The threads the notifications are about, in one query."""
    ids = {n.thread_id for n in notifications}
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(Thread).where(Thread.id.in_(ids)))}


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> None:
    """Mark some (or all) of the member's notifications read, and update their live count."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        statement = statement.where(Notification.id.in_(list(notification_ids)))
    db.session.execute(statement.values(read_at=utcnow()))
    db.session.commit()
    push_counts([user.id])


def push_counts(user_ids: Iterable[int]) -> None:
    """Send each member's current unread count to their open pages."""
    ids = list(user_ids)
    if not ids:
        return
    forget(*(_header_count_key(user_id) for user_id in ids))
    for user in db.session.scalars(select(User).where(User.id.in_(ids))):
        socketio.emit(
            "notifications", {"unread": unread_count(user)}, to=user_room(user.id), namespace="/"
        )


# E-mail -----------------------------------------------------------------------------------------


def email_frequency(user: User, space_id: int | None = None) -> EmailFrequency:
    """The member's choice for a space, or their network-wide one (a daily digest by default)."""
    return email_frequencies(user)(space_id)


def set_email_frequency(
    user: User, frequency: EmailFrequency | None, space: Space | None = None
) -> None:
    """Choose how e-mail arrives, network-wide or (``None`` clears it) for one space. Each is one
    statement that gives way to the same choice saved at the same moment (a double click)."""
    if space is None:
        chosen = frequency or EmailFrequency.daily
        statement = (
            insert_into(db.session, NotificationSettings.__table__)
            .values(user_id=user.id, email=chosen)
            .on_conflict_do_update(index_elements=["user_id"], set_={"email": chosen})
        )
    elif frequency is None:
        statement = delete(SpaceEmailPreference).where(
            SpaceEmailPreference.user_id == user.id, SpaceEmailPreference.space_id == space.id
        )
    else:
        statement = (
            insert_into(db.session, SpaceEmailPreference.__table__)
            .values(user_id=user.id, space_id=space.id, email=frequency)
            .on_conflict_do_update(
                index_elements=["user_id", "space_id"], set_={"email": frequency}
            )
        )
    db.session.execute(statement)
    db.session.commit()


def stop_all_email(user: User) -> None:
    """Turn notification e-mail off everywhere (the network-wide unsubscribe link): off for the
    network, and every space's own choice cleared so that none still sends."""
    db.session.execute(
        delete(SpaceEmailPreference).where(
            SpaceEmailPreference.user_id == user.id,
            SpaceEmailPreference.email != EmailFrequency.off,
        )
    )
    set_email_frequency(user, EmailFrequency.off)


def space_overrides(user: User) -> dict[int, EmailFrequency]:
    """The member's per-space e-mail choices."""
    rows = db.session.scalars(
        select(SpaceEmailPreference).where(SpaceEmailPreference.user_id == user.id)
    )
    return {row.space_id: row.email for row in rows}


class LinkOutdated(Exception):
    """An unsubscribe link sent to an address the account no longer uses."""


def unsubscribe_url(user: User, space_id: int | None = None) -> str:
    """A signed link, for the member's current address, that turns e-mail off without signing in."""
    payload = {"uid": user.id, "space": space_id, "to": address_mark(user.email)}
    return external_url("notifications.unsubscribe", token=make_token("unsubscribe", payload))


def read_unsubscribe(token: str) -> tuple[User, Space | None] | None:
    """Who (and which space) an unsubscribe link is for, if it is genuine; raises
    :class:`LinkOutdated` if it was sent to an address the account has since changed. Links
    made before they named their address carry no mark and work until they expire."""
    payload = read_token("unsubscribe", token)
    if payload is None:
        return None
    user = db.session.get(User, payload.get("uid"))
    if user is None:
        return None
    if "to" in payload and payload["to"] != address_mark(user.email):
        raise LinkOutdated
    space = db.session.get(Space, payload["space"]) if payload.get("space") else None
    return user, space


def _deliverable(
    user: User, notifications: list[Notification]
) -> list[tuple[Notification, Thread, Post | None]]:
    """The notifications still visible to the member now, with their thread and post."""
    threads = {
        t.id: t
        for t in db.session.scalars(
            select(Thread)
            .where(Thread.id.in_({n.thread_id for n in notifications}))
            .options(selectinload(Thread.space))
        )
    }
    posts = {
        p.id: p
        for p in db.session.scalars(
            select(Post).where(Post.id.in_({n.post_id for n in notifications if n.post_id}))
        )
    }
    result = []
    for space_id in {t.space_id for t in threads.values()}:
        memberships = memberships_in(db.session.get(Space, space_id), [user.id])  # type: ignore[arg-type]
        for notification in notifications:
            thread = threads.get(notification.thread_id)
            if thread is None or thread.space_id != space_id:
                continue
            if not thread_allows(user, Action.view, thread, memberships.get(user.id)):
                continue
            post = posts.get(notification.post_id) if notification.post_id else None
            if post is not None and post.removed:
                continue
            result.append((notification, thread, post))
    result.sort(key=lambda item: item[0].id)
    return result


def _mail(user: User, items: list[tuple[Notification, Thread, Post | None]], digest: bool) -> None:
    space_id = items[0][1].space_id if len({t.space_id for _, t, _ in items}) == 1 else None
    unsubscribe = unsubscribe_url(user, space_id if not digest else None)
    if digest:
        subject = f"peerlearn: {len(items)} new notification{'s' if len(items) != 1 else ''}"
    else:
        _, thread, _ = items[0]
        subject = f"[{thread.space.name}] {thread.title}"
    context = {
        "user": user,
        "items": items,
        "digest": digest,
        "unsubscribe_url": unsubscribe,
        "settings_url": external_url("notifications.settings"),
        "link": lambda n: external_url("notifications.open", notification_id=n.id),
    }
    send_mail(
        user.email,
        subject,
        render_template("email/notifications.txt", **context),
        html=render_template("email/notifications.html", **context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def email_frequencies(user: User) -> Callable[[int | None], EmailFrequency]:
    """The member's e-mail choice per space, from two lookups however many spaces are asked."""
    settings = db.session.get(NotificationSettings, user.id)
    default = settings.email if settings is not None else EmailFrequency.daily
    overrides = space_overrides(user)
    return lambda space_id: overrides.get(space_id, default) if space_id else default


def _claim(ids: list[int], when: datetime) -> list[Notification]:
    """Mark these notifications as e-mailed unless someone else already has, commit, and return
    the ones this caller marked: only they are its to send, so the page's immediate e-mail and
    a ``send-digests`` run never send the same notification twice."""
    if not ids:
        return []
    claimed = db.session.scalars(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.emailed_at.is_(None))
        .values(emailed_at=when)
        .returning(Notification.id)
    ).all()
    db.session.commit()
    if not claimed:
        return []
    return list(
        db.session.scalars(
            select(Notification).where(Notification.id.in_(claimed)).order_by(Notification.id)
        )
    )


def _release(notifications: list[Notification]) -> None:
    """Undo :func:`_claim` after the e-mail could not be sent, so a later run sends it."""
    db.session.rollback()
    ids = [notification.id for notification in notifications]
    if ids:
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(emailed_at=None)
        )
        db.session.commit()


def _send_claimed(
    user: User, ids: list[int], when: datetime, digest: bool,
    wanted: Callable[[Notification], bool] = lambda notification: True,
) -> int:  # fmt: skip
    """Claim these notifications of one member and e-mail them those they are ``wanted`` for and
    may still see; how many e-mails went (0 or 1). If the e-mail cannot go, what was claimed is
    released for a later run and the error raised."""
    claimed = _claim(ids, when)
    chosen = [notification for notification in claimed if wanted(notification)]
    items = _deliverable(user, chosen) if chosen else []
    if not items:
        return 0
    try:
        _mail(user, items, digest=digest)
    except Exception:
        _release(claimed)
        raise
    return 1


def send_immediate_ids(ids: list[int]) -> None:
    """E-mail just-made notifications to the recipients who chose immediate e-mail, once the page
    that made them has been answered (see :func:`~peerlearn.core.deferred.after_response`). When
    an e-mail cannot be sent (the mail server away, say) it is logged and this run stops: that
    recipient's and the rest's notifications stay unsent, for ``send-digests`` to send."""
    if not ids:
        return
    by_user: dict[int, list[Notification]] = {}
    pending = select(Notification).where(
        Notification.id.in_(ids), Notification.emailed_at.is_(None)
    )
    for notification in db.session.scalars(pending):
        by_user.setdefault(notification.user_id, []).append(notification)
    if not by_user:
        return
    users = db.session.scalars(select(User).where(User.id.in_(list(by_user)), User.active)).all()
    with one_connection():
        for user in users:
            try:
                frequency = email_frequencies(user)
                due = [
                    n.id
                    for n in by_user[user.id]
                    if frequency(n.space_id) is EmailFrequency.immediate
                ]
                _send_claimed(user, due, utcnow(), digest=False)
            except Exception:
                db.session.rollback()
                logger.exception(
                    "immediate e-mail to user %s failed; send-digests will send what is left",
                    user.id,
                )
                return


#: An immediate e-mail still unsent this long after its notification (the mail server was away,
#: or the process stopped before the page's answer was finished) goes out with the next
#: ``send-digests`` run instead; younger ones may still be on their way.
IMMEDIATE_GRACE = timedelta(minutes=10)


def send_digests(now: datetime | None = None) -> int:
    """E-mail each member who wants a daily digest their unread notifications, with any immediate
    e-mail that could not be sent at the time; returns how many e-mails went out. Notifications
    already read, or for members who want no e-mail, are marked as handled without being sent."""
    now = now or utcnow()
    sent = 0
    user_ids = db.session.scalars(
        select(Notification.user_id).where(Notification.emailed_at.is_(None)).distinct()
    ).all()
    users = db.session.scalars(select(User).where(User.id.in_(user_ids))).all()
    with one_connection():
        for user in users:
            sent += _send_digest(user, now)
    return sent


def _send_digest(user: User, now: datetime) -> int:
    """One member's part of :func:`send_digests`: how many e-mails it sent them (0 or 1)."""
    pending = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id, Notification.emailed_at.is_(None))
        .order_by(Notification.id)
    ).all()
    frequency = email_frequencies(user)
    handled = [n.id for n in pending if _handled_by_digests(n, frequency(n.space_id), now)]
    return _send_claimed(
        user, handled, now, digest=True,
        wanted=lambda n: (
            n.read_at is None and user.active and frequency(n.space_id) is not EmailFrequency.off
        ),
    )  # fmt: skip


def _handled_by_digests(
    notification: Notification, frequency: EmailFrequency, now: datetime
) -> bool:
    """Whether a digest run settles this unsent notification now: every one, except an immediate
    e-mail that may still be on its way (younger than :data:`IMMEDIATE_GRACE`)."""
    late = notification.created_at <= now - IMMEDIATE_GRACE
    return frequency is not EmailFrequency.immediate or late
