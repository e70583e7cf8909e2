"""Notification e-mail: each member's choice (immediate, a daily digest, or none; network-wide or
per space), signed unsubscribe links, the immediate e-mail sent once a page has been answered, and
the ``send-digests`` run that sends digests and catches up on what could not be sent. News of
an event the member answered (a place at it, its cancellation, its going ahead after all, a new
time or place) is e-mailed at once unless they chose no e-mail at all (for its space, or
network-wide): it cannot wait for tomorrow's digest (:attr:`NotificationKind.urgent`).

Every notification is checked against the permission policy again when it is e-mailed, so a
private space's activity never reaches anyone who has since left it. Each notification is claimed
before it is sent, so none is e-mailed twice.
"""

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.accounts.services import external_url
from peerlearn.accounts.tokens import address_mark, make_token, read_token
from peerlearn.core.db import insert_into, utcnow
from peerlearn.core.mail import one_connection, send_mail
from peerlearn.discussions.models import Post, Thread
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.notifications.models import (
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationSettings,
    SpaceEmailPreference,
)
from peerlearn.permissions import Action, can, thread_allows
from peerlearn.spaces.models import Space
from peerlearn.spaces.services import memberships_in

logger = logging.getLogger(__name__)

#: Logged when the mail server refuses one member's e-mail (see :func:`_theirs_alone`).
_REFUSED = "the mail server refused or rejected e-mail to user %s (%s); a later run tries again"


def _theirs_alone(error: Exception) -> bool:
    """Whether a failed send is one member's alone, so the others' e-mail still goes: the mail
    server refused their address (their mailbox gone, say) or rejected the message for good (a
    spam filter, over what a post in it says). Anything else, such as the server being away,
    would fail every send after it too."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(error, smtplib.SMTPDataError) and 500 <= error.smtp_code < 600


#: A notification to e-mail, with what it is about (a thread or an event) and its post, if any.
Item = tuple[Notification, Thread | Event, Post | None]


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


def _with_space(model: type[Thread | Event], ids: set[int]) -> dict[int, Any]:
    """The threads (or events) with these ids, and their spaces, in two queries."""
    rows = db.session.scalars(
        select(model).where(model.id.in_(ids)).options(selectinload(model.space))
    )
    return {row.id: row for row in rows}


def _deliverable(user: User, notifications: list[Notification]) -> list[Item]:
    """The notifications still visible to the member now, each with what it is about (a thread
    or an event) and its post, if any."""
    threads = _with_space(Thread, {n.thread_id for n in notifications if n.thread_id})
    posts = {
        p.id: p
        for p in db.session.scalars(
            select(Post).where(Post.id.in_({n.post_id for n in notifications if n.post_id}))
        )
    }
    result: list[Item] = []
    for space_id in {t.space_id for t in threads.values()}:
        memberships = memberships_in(db.session.get(Space, space_id), [user.id])  # type: ignore[arg-type]
        for notification in notifications:
            thread = threads.get(notification.thread_id)  # type: ignore[arg-type]
            if thread is None or thread.space_id != space_id:
                continue
            if not thread_allows(user, Action.follow, thread, memberships.get(user.id)):
                continue
            post = posts.get(notification.post_id) if notification.post_id else None
            if post is not None and post.removed:
                continue
            result.append((notification, thread, post))
    events = _with_space(Event, {n.event_id for n in notifications if n.event_id})
    for notification in notifications:
        event = events.get(notification.event_id)  # type: ignore[arg-type]
        if event is not None and can(user, Action.view, event):
            result.append((notification, event, None))
    result.sort(key=lambda item: item[0].id)
    return result


def _mail(user: User, items: list[Item], digest: bool) -> None:
    space_id = items[0][1].space_id if len({about.space_id for _, about, _ in items}) == 1 else None
    unsubscribe = unsubscribe_url(user, space_id if not digest else None)
    if digest:
        subject = f"peerlearn: {len(items)} new notification{'s' if len(items) != 1 else ''}"
    else:
        notification, about, _ = items[0]
        subject = f"[{about.space.name}] {_news(notification)}{about.title}"
    context = {
        "user": user,
        "items": items,
        "digest": digest,
        "unsubscribe_url": unsubscribe,
        "settings_url": external_url("notifications.settings"),
        # Every item links through its notification, which marks it read and goes on to the
        # thread, post or event it is about.
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
            # No out-of-office replies to a no-reply address (RFC 3834; Exchange's own header),
            # which would only bounce back to the member on leave.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )


def _news(notification: Notification) -> str:
    """What an e-mail's subject says before the title of the event it is about (nothing before a
    thread's)."""
    if notification.kind is NotificationKind.place_given:
        return "You have a place at "
    if notification.kind is NotificationKind.event_cancelled:
        return "Cancelled: "
    if notification.kind is NotificationKind.event_reinstated:
        return "Going ahead after all: "
    change = notification.rearrangement
    return f"{change.headline}: " if change else ""


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
    recipient's and the rest's notifications stay unsent, for ``send-digests`` to send. A failure
    that is one recipient's alone (:func:`_theirs_alone`) stops only theirs."""
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
                due = [n.id for n in by_user[user.id] if _due_at_once(n, frequency(n.space_id))]
                _send_claimed(user, due, utcnow(), digest=False)
            except Exception as error:
                db.session.rollback()
                if _theirs_alone(error):
                    logger.warning(_REFUSED, user.id, error)
                    continue
                logger.exception(
                    "immediate e-mail to user %s failed; send-digests will send what is left",
                    user.id,
                )
                return


def _due_at_once(notification: Notification, frequency: EmailFrequency) -> bool:
    """Whether the notification is e-mailed as soon as it is made: the member chose immediate
    e-mail (for its space, or network-wide), or it is urgent (news of an event they answered)
    and they did not choose "never"."""
    if notification.kind.urgent:
        return frequency is not EmailFrequency.off
    return frequency is EmailFrequency.immediate


#: An immediate e-mail still unsent this long after its notification (the mail server was away,
#: or the process stopped before the page's answer was finished) goes out with the next
#: ``send-digests`` run instead; younger ones may still be on their way.
IMMEDIATE_GRACE = timedelta(minutes=10)


def send_digests(now: datetime | None = None) -> int:
    """E-mail each member who wants a daily digest their unread notifications, with any immediate
    e-mail that could not be sent at the time; returns how many e-mails went out. Notifications
    already read, or for members who want no e-mail, are marked as handled without being sent.
    A member whose e-mail the mail server refuses (:func:`_theirs_alone`) is skipped, and logged,
    until a later run."""
    now = now or utcnow()
    sent = 0
    user_ids = db.session.scalars(
        select(Notification.user_id).where(Notification.emailed_at.is_(None)).distinct()
    ).all()
    users = db.session.scalars(select(User).where(User.id.in_(user_ids))).all()
    with one_connection():
        for user in users:
            try:
                sent += _send_digest(user, now)
            except Exception as error:
                if not _theirs_alone(error):
                    raise  # the mail server away, say: the rest wait for the next run
                db.session.rollback()
                logger.warning(_REFUSED, user.id, error)
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
    """Whether a digest run settles this unsent notification now: every one, except an e-mail due
    at once that may still be on its way (younger than :data:`IMMEDIATE_GRACE`)."""
    late = notification.created_at <= now - IMMEDIATE_GRACE
    return not _due_at_once(notification, frequency) or late
