"""Moderation: members' reports and the moderators' queues, hiding and restoring posts and live
chat messages, and pinning, locking, hiding, slowing and moving threads. Every action is audited.
Posts and chat messages are reported into one queue under one rule (:func:`hides_at_once`).

A moderator's action on a thread or its posts holds the thread, then its space (the order of
:mod:`~peerlearn.discussions.holds`), and asks again, as held, whether the moderator still
moderates the space (:func:`~peerlearn.spaces.memberships.ensure_may_moderate`, as every
moderator's action on a membership does): one made a plain member a moment ago, after the
page's check, changes nothing and is told so."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Subquery, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import change_if, utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.signals import (
    chat_message_changed,
    post_removed,
    post_restored,
    thread_changed,
)
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.reading import keep_read_positions
from peerlearn.discussions.removal import hold_thread, recount
from peerlearn.discussions.services import tags_for
from peerlearn.events import chat
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db
from peerlearn.moderation.models import Flag, FlagOutcome, FlagReason
from peerlearn.permissions import Action, can, moderated_space_ids
from peerlearn.spaces.memberships import ensure_may_moderate
from peerlearn.spaces.models import Space
from peerlearn.spaces.services import SpaceError, hold_space

#: The slow-mode settings moderators can choose: seconds between one member's posts.
SLOW_MODE_OPTIONS = [(0, "Off"), (60, "1 minute"), (300, "5 minutes"), (900, "15 minutes"),
                     (3600, "1 hour")]  # fmt: skip


class ModerationError(RuleError):
    """A rule about moderation was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


#: Every kind of report's "Something else" reason (posts' and chat messages' ``FlagReason``, the
#: library's ``ResourceFlagReason``), which needs a note to tell the moderators anything.
SOMETHING_ELSE = "other"
#: The longest note a report may carry for the moderators.
REPORT_NOTE_LENGTH = 1000
#: What a report whose note is over :data:`REPORT_NOTE_LENGTH` is told, beside its note.
NOTE_TOO_LONG = f"Keep this to {REPORT_NOTE_LENGTH:,} characters or fewer"
#: What a report of something else with no note is told, beside its note.
SAY_WHAT = "Say what is wrong, so that the moderators know what to look for"


def says_too_little(reason: str | None, note: str | None) -> bool:
    """Whether a report for ``reason`` (its value) with this note tells the moderators nothing:
    one of something else, with no note (the rule of the report forms and the live chat's)."""
    return reason == SOMETHING_ELSE and not (note or "").strip()


def hides_at_once(reason: FlagReason, *, answerable: bool, reporters: int) -> bool:
    """The one rule for a report hiding what it reports at once, pending a moderator's review:
    patient-identifiable information must not stay on screen while someone decides. So that
    hiding is not a tool for anyone with an account, it takes a reporter who may post in the
    space (``answerable`` to its moderators), or a second person's report (``reporters``: the
    people with an open report of it for this reason); until then the report waits in the queue
    like any other."""
    return reason is FlagReason.patient_information and (answerable or reporters > 1)


def flag_post(reporter: User, post: Post, reason: FlagReason, note: str = "") -> Flag:
    """Report a post; it is hidden at once when :func:`hides_at_once` says so."""
    flag = Flag(post_id=post.id, reporter_id=reporter.id, reason=reason, note=note)
    flag = _add_once(flag, Flag.post_id == post.id, "You have already reported this post")
    record("post.flagged", actor=reporter, subject=post.author, space=post.thread.space,
           post_id=post.id, reason=reason.value)  # fmt: skip
    db.session.commit()
    if post.hidden_at is None and hides_at_once(
        reason,
        answerable=can(reporter, Action.post, post.thread.space),
        reporters=_reporters(Flag.post_id == post.id, reason),
    ):
        set_post_hidden(reporter, post, True, reason="reported as patient-identifiable information")
    return flag


def flag_chat_message(
    reporter: User, message: ChatMessage, reason: FlagReason, note: str = ""
) -> Flag:
    """Report a live chat message into the same queue as posts; it is hidden at once from
    everyone but the space's moderators when :func:`hides_at_once` says so."""
    flag = Flag(chat_message_id=message.id, reporter_id=reporter.id, reason=reason, note=note)
    flag = _add_once(
        flag, Flag.chat_message_id == message.id, "You have already reported this message"
    )
    event = message.event
    record("chat.message_flagged", actor=reporter, subject=message.author, space=event.space,
           event_id=event.id, message_id=message.id, reason=reason.value)  # fmt: skip
    db.session.commit()
    if message.hidden_at is None and hides_at_once(
        reason,
        answerable=can(reporter, Action.post, event.space),
        reporters=_reporters(Flag.chat_message_id == message.id, reason),
    ):
        set_chat_message_hidden(
            reporter, message, True, reason="reported as patient-identifiable information"
        )
    return flag


#: A report: a :class:`Flag`, or a resource's (``ResourceFlag``), which has the same columns.
Report = TypeVar("Report")


def add_report(
    flag: Report, about: ColumnElement[bool], urgent: bool, refusal: RuleError
) -> Report:
    """Store a report, one per person and thing (``about``: the condition naming the thing), and
    refuse a second with ``refusal``, unless the new one is ``urgent`` (patient-identifiable
    information): that takes the place of the reporter's earlier report of something else, open
    again as new if a moderator had dealt with it, so that such information never stays on
    screen because its reporter once reported the thing for a lesser reason. Its note is kept
    trimmed, to :data:`REPORT_NOTE_LENGTH`. Returns the report stored."""
    flag.note = (flag.note or "").strip()[:REPORT_NOTE_LENGTH]
    db.session.add(flag)
    try:
        db.session.flush()
        return flag
    except IntegrityError:
        db.session.rollback()
    model: Any = type(flag)
    earlier = db.session.scalar(select(model).where(about, model.reporter_id == flag.reporter_id))
    if not urgent or earlier is None or earlier.reason == flag.reason:
        raise refusal
    # What it said before stays in its note (and the audit log keeps who dealt with it).
    before = f"Reported before as {earlier.reason.label.lower()}" + (
        f": {earlier.note}" if earlier.note else ""
    )
    earlier.reason, earlier.note = flag.reason, "\n\n".join(filter(None, [flag.note, before]))
    earlier.note = earlier.note[:REPORT_NOTE_LENGTH]
    earlier.created_at = utcnow()
    earlier.resolved_at = earlier.resolved_by_id = earlier.outcome = None
    db.session.flush()
    return earlier


def _add_once(flag: Flag, about: ColumnElement[bool], already: str) -> Flag:
    urgent = flag.reason is FlagReason.patient_information
    return add_report(flag, about, urgent, ModerationError(already))


def _reporters(about: ColumnElement[bool], reason: FlagReason) -> int:
    """How many people have an open report ``about`` one post or message for ``reason``."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Flag)
            .where(about, Flag.reason == reason, Flag.resolved_at.is_(None))
        )
        or 0
    )


def _newest_open_flags(about: InstrumentedAttribute[int | None]) -> Subquery:
    """When each post (or chat message, as ``about`` says) was last reported, among its open
    reports: columns ``id`` and ``flagged_at``."""
    return (
        select(about.label("id"), func.max(Flag.created_at).label("flagged_at"))
        .where(about.is_not(None), Flag.resolved_at.is_(None))
        .group_by(about)
        .subquery()
    )


def queue_query(actor: User, space: Space | None = None) -> Select[tuple[Post]]:
    """Posts with open flags (newest report first) in the spaces the actor may moderate now."""
    newest_flag = _newest_open_flags(Flag.post_id)
    query = (
        select(Post)
        .join(newest_flag, newest_flag.c.id == Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Thread.space_id.in_(moderated_space_ids(actor, archived=False)))
        .options(
            selectinload(Post.author),
            selectinload(Post.thread).selectinload(Thread.space),
        )
        .order_by(newest_flag.c.flagged_at.desc(), Post.id.desc())  # a stable order to page
    )
    if space is not None:
        query = query.where(Thread.space_id == space.id)
    return query


def open_flags(items: Sequence[Post] | Sequence[ChatMessage]) -> dict[int, list[Flag]]:
    """The open reports on each of these posts (or chat messages), oldest first, in one query."""
    if not items:
        return {}
    about = Flag.post_id if isinstance(items[0], Post) else Flag.chat_message_id
    flags: dict[int, list[Flag]] = {}
    for flag in db.session.scalars(
        select(Flag)
        .where(about.in_([item.id for item in items]), Flag.resolved_at.is_(None))
        .options(selectinload(Flag.reporter))
        .order_by(Flag.id)
    ):
        flags.setdefault(flag.post_id or flag.chat_message_id, []).append(flag)  # type: ignore[arg-type]
    return flags


def reported_chat_messages(actor: User, space: Space | None = None) -> list[ChatMessage]:
    """Live chat messages with open reports (newest report first) in the spaces the actor may
    moderate now. Not paged, as the library's reports are not: each is someone's deliberate
    act, and they wait on the queue's first page."""
    newest_flag = _newest_open_flags(Flag.chat_message_id)
    query = (
        select(ChatMessage)
        .join(newest_flag, newest_flag.c.id == ChatMessage.id)
        .join(Event, Event.id == ChatMessage.event_id)
        .where(Event.space_id.in_(moderated_space_ids(actor, archived=False)))
        .options(
            selectinload(ChatMessage.author),
            selectinload(ChatMessage.event).selectinload(Event.space),
        )
        .order_by(newest_flag.c.flagged_at.desc(), ChatMessage.id.desc())
    )
    if space is not None:
        query = query.where(Event.space_id == space.id)
    return list(db.session.scalars(query))


def resolve(
    actor: User, post: Post, outcome: FlagOutcome, *, only_if_reported: bool = False
) -> int:
    """Decide on a reported post: hide it, or dismiss the reports and show it again. Returns
    how many open reports the decision closed. Decisions on one post are made one at a time,
    each reading the reports still open once it holds the thread; with ``only_if_reported``
    (dismissing the reports a moderator was shown) nothing changes when none is open any
    more: another moderator has just decided, and that decision stands."""
    _hold_to_moderate(actor, post.thread)  # before the reports' rows, as every writer does
    flags = db.session.scalars(
        select(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
    ).all()
    if not flags and only_if_reported:
        db.session.rollback()
        return 0
    now = utcnow()
    for flag in flags:
        flag.resolved_at, flag.resolved_by_id, flag.outcome = now, actor.id, outcome
    if flags:
        record("flags.resolved", actor=actor, subject=post.author, space=post.thread.space,
               post_id=post.id, outcome=outcome.value, reports=len(flags))  # fmt: skip
    changed = _change_hidden(actor, post, outcome is FlagOutcome.hidden)
    db.session.commit()
    _announce(post, changed)
    return len(flags)


def resolve_chat_message(actor: User, message: ChatMessage, decision: str) -> int:
    """Decide on a chat message, from the queue or with the chat's Delete: ``hide`` it,
    ``restore`` it (dismissing its reports, it is shown again), or ``delete`` it for good (as
    its author can). Its open reports are closed either way: returns how many. The message's
    row is held first, so two moderators deciding at once decide one after the other, each on
    the reports still open; then its space, and the actor is asked again, as held, whether
    they still moderate it (:func:`_hold_message_to_moderate`)."""
    if decision not in {"hide", "restore", "delete"}:
        raise ValueError(decision)
    _hold_message_to_moderate(actor, message)
    flags = db.session.scalars(
        select(Flag).where(Flag.chat_message_id == message.id, Flag.resolved_at.is_(None))
    ).all()
    outcome = FlagOutcome.dismissed if decision == "restore" else FlagOutcome.hidden
    now = utcnow()
    for flag in flags:
        flag.resolved_at, flag.resolved_by_id, flag.outcome = now, actor.id, outcome
    event = message.event
    if flags:
        record("flags.resolved", actor=actor, subject=message.author, space=event.space,
               event_id=event.id, message_id=message.id, outcome=outcome.value,
               reports=len(flags))  # fmt: skip
    if decision == "delete":
        changed = message.deleted_at is None
        chat.delete_message(actor, message)  # commits, removed already or not
    else:
        changed = _change_chat_hidden(actor, message, decision == "hide")
        db.session.commit()
    if changed:
        chat_message_changed.send(message)
    return len(flags)


def _hold_message_to_moderate(actor: User, message: ChatMessage) -> None:
    """Hold the chat message, then its event's space, and refuse ``actor`` unless they moderate
    the space as held (:func:`~peerlearn.spaces.memberships.ensure_may_moderate`), as
    :func:`_hold_to_moderate` does for a thread: a moderator made a plain member, removed or
    banned, or a space archived, a moment ago changes nothing."""
    chat.hold_message(message)
    space = message.event.space
    hold_space(space)
    ensure_may_moderate(actor, space)


def set_chat_message_hidden(
    actor: User, message: ChatMessage, hidden: bool, reason: str = ""
) -> None:
    """Hide a chat message from everyone but the space's moderators, or show it again."""
    chat.hold_message(message)
    changed = _change_chat_hidden(actor, message, hidden, reason)
    db.session.commit()
    if changed:
        chat_message_changed.send(message)


def _change_chat_hidden(actor: User, message: ChatMessage, hidden: bool, reason: str = "") -> bool:
    """Hide (and unpin) or restore a held message in the caller's transaction, audited, unless
    it is so already or removed. Returns whether it changed."""
    if message.deleted_at is not None or (message.hidden_at is not None) == hidden:
        return False
    message.hidden_at = utcnow() if hidden else None
    if hidden:
        message.pinned_at = message.pinned_by_id = None
    event = message.event
    record("chat.message_hidden" if hidden else "chat.message_restored", actor=actor,
           subject=message.author, space=event.space, event_id=event.id, message_id=message.id,
           reason=reason[:500] or None)  # fmt: skip
    return True


# Posts and threads ------------------------------------------------------------------------------


def set_post_hidden(actor: User, post: Post, hidden: bool, reason: str = "") -> None:
    """A moderator hides a post (it becomes a placeholder for everyone else) or restores it."""
    if (post.hidden_at is not None) == hidden:
        return
    hold_thread(post.thread)  # before the post's row, as every writer to the thread does
    changed = _change_hidden(actor, post, hidden, reason)
    db.session.commit()
    _announce(post, changed)


def _hold_to_moderate(actor: User, thread: Thread) -> None:
    """Hold the thread, then its space, and refuse ``actor`` unless they moderate the space as
    held (:func:`~peerlearn.spaces.memberships.ensure_may_moderate`): a moderator made a plain
    member, or a space archived, a moment ago changes nothing."""
    hold_thread(thread)
    hold_space(thread.space)
    ensure_may_moderate(actor, thread.space)


def _change_hidden(actor: User, post: Post, hidden: bool, reason: str = "") -> bool:
    """Hide or restore the post in the caller's transaction, audited, unless it is so already.
    The caller holds the thread (:func:`hold_thread`), and the post is read again after that:
    another moderator may have just done it. Returns whether it changed."""
    db.session.refresh(post, ["hidden_at"])
    if (post.hidden_at is not None) == hidden:
        return False
    post.hidden_at = utcnow() if hidden else None
    recount(post.thread)
    record("post.hidden" if hidden else "post.restored", actor=actor, subject=post.author,
           space=post.thread.space, post_id=post.id, reason=reason[:500] or None)  # fmt: skip
    return True


def _announce(post: Post, changed: bool) -> None:
    """Tell the rest of peerlearn (search, notifications) a committed hiding or restoring."""
    if changed:
        (post_removed if post.hidden_at is not None else post_restored).send(post)


def set_thread_flag(actor: User | None, thread: Thread, name: str, value: bool) -> bool:
    """Pin, lock or hide a thread (``name`` is ``pinned``, ``locked`` or ``hidden``), audited
    (``actor`` None: done by peerlearn itself, as a consequence of another change). One
    statement changes it only if it is not so already, so the same change made twice at once
    (two moderators, a double click) is made and audited once. Returns whether it changed. A
    moderator's change is made as they stand once the thread is held (:func:`_hold_to_moderate`).
    """
    if name not in {"pinned", "locked", "hidden"}:
        raise ValueError(name)
    if actor is not None:
        _hold_to_moderate(actor, thread)
    if not change_if(db.session, thread, getattr(Thread, name) != value, **{name: value}):
        return False
    verb = {"pinned": ("pinned", "unpinned"), "locked": ("locked", "unlocked"),
            "hidden": ("hidden", "restored")}[name][0 if value else 1]  # fmt: skip
    record(f"thread.{verb}", actor=actor, space=thread.space, thread_id=thread.id,
           title=thread.title)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)
    return True


def set_slow_mode(actor: User, thread: Thread, seconds: int) -> bool:
    """Allow each member one post per ``seconds`` in the thread (0 switches it off). Changed,
    and audited, only if it is not so already (as :func:`set_thread_flag`); returns whether it
    changed."""
    if seconds < 0 or seconds > 24 * 3600:
        raise ModerationError("Choose a slow mode between off and 24 hours", field="seconds")
    _hold_to_moderate(actor, thread)
    unlike = Thread.slow_mode_seconds != seconds
    if not change_if(db.session, thread, unlike, slow_mode_seconds=seconds):
        return False
    record("thread.slow_mode", actor=actor, space=thread.space, thread_id=thread.id,
           seconds=seconds)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)
    return True


def move_thread(actor: User, thread: Thread, target: Space) -> None:
    """Move a thread to another space (the view checks the actor moderates both). The thread,
    then both spaces in the order of their ids, are held
    (:func:`~peerlearn.discussions.removal.hold_thread`,
    :func:`~peerlearn.spaces.services.hold_space`: the order a reply holds them in; two moves
    in opposite directions hold the two spaces in the same order), and both are checked as
    held: a target archived a moment ago, after the page's check, takes no thread, and an
    archive waits for a move under way; a moderator made a plain member of either a moment ago
    moves nothing (:func:`~peerlearn.spaces.memberships.ensure_may_moderate`); nor does a move
    of a thread another moderator moved a moment ago (from a space this one may not moderate)."""
    if target.id == thread.space_id:
        raise ModerationError("The thread is already in that space", field="space_id")
    seen = thread.space_id
    hold_thread(thread)
    db.session.refresh(thread, ["space_id"])
    if thread.space_id != seen:  # another moderator moved it a moment ago: theirs stands
        raise ModerationError(
            "The thread was moved to another space a moment ago", field="space_id"
        )
    source = thread.space
    for space in sorted((source, target), key=lambda space: space.id):
        hold_space(space)
    ensure_may_moderate(actor, source)
    if target.archived:
        raise ModerationError("You cannot move a thread into an archived space", field="space_id")
    try:
        ensure_may_moderate(actor, target)
    except SpaceError:
        raise ModerationError(
            f"You are no longer a moderator of {target.name}. Choose a space you moderate",
            field="space_id",
        ) from None
    # Its readers' unread posts go with it (read stays read, unread stays unread).
    keep_read_positions(thread, target)
    thread.space = target
    # Free tags belong to a space: carry them over by name.
    thread.tags = tags_for(target, [tag.name for tag in thread.tags])
    # In the audit log of each space, so that the owners of both find it.
    record("thread.moved", actor=actor, space=source, thread_id=thread.id,
           to_space=target.slug, title=thread.title)  # fmt: skip
    record("thread.moved_in", actor=actor, space=target, thread_id=thread.id,
           from_space=source.slug, title=thread.title)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)
