"""A member's own data, as one JSON document they can download (UK GDPR: the right of access
and to data portability).

It holds what the member gave and did: their account and profile, memberships, what they wrote
(threads, replies and their earlier versions, chat messages, questions, resources and case
studies), what they marked, followed, answered, saved and reported, and their e-mail choices. It
holds nothing another member wrote: a thread or event is named by its title only where the
member may still see it (the permission policy decides, as everywhere), and by its space
otherwise. Text a moderator hid (for patient-identifiable information, say) is left out, with a
note that it was hidden: the information-governance gate applies to downloads of every kind.
Uploaded files are listed, not included: each is downloaded from its page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions.models import (
    HelpfulMark,
    Post,
    PostRevision,
    SpaceSubscription,
    Thread,
    ThreadSubscription,
)
from peerlearn.events.models import ChatMessage, Event, Question, Rsvp
from peerlearn.extensions import db
from peerlearn.moderation.models import Flag
from peerlearn.notifications.emails import email_frequency
from peerlearn.notifications.models import SpaceEmailPreference
from peerlearn.permissions import Action, can, remember_memberships
from peerlearn.resources.models import (
    CaseStudySection,
    Resource,
    ResourceFlag,
    ResourceUse,
    ResourceVersion,
    SavedResource,
)
from peerlearn.spaces.models import Membership, Space

HIDDEN = "Hidden by a moderator: the text is not included."
REMOVED = "Removed: the text is not included."


def _when(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _value(choice: Any) -> Any:
    return getattr(choice, "value", choice)


def _thread_ref(user: User, thread: Thread) -> dict[str, Any]:
    reference: dict[str, Any] = {"id": thread.id, "space": thread.space.name}
    if can(user, Action.view, thread):
        reference["title"] = thread.title
    return reference


def _event_ref(user: User, event: Event) -> dict[str, Any]:
    reference: dict[str, Any] = {"id": event.id, "space": event.space.name}
    if can(user, Action.view, event):
        reference["title"] = event.title
        reference["starts_at"] = _when(event.starts_at)
    return reference


def _text(source: str, hidden: bool, removed: bool = False) -> dict[str, Any]:
    if hidden:
        return {"text": None, "note": HIDDEN}
    if removed:
        return {"text": None, "note": REMOVED}
    return {"text": source}


def _account(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "handle": user.handle,
        "email": user.email,
        "job_title": user.job_title,
        "organisation": user.organisation.name if user.organisation else None,
        "about_you": user.bio_source,
        "site_role": _value(user.site_role),
        "joined_at": _when(user.created_at),
        "email_confirmed_at": _when(user.email_confirmed_at),
        "last_seen_at": _when(user.last_seen_at),
        "email_notifications": _value(email_frequency(user)),
        "email_notifications_by_space": [
            {"space": space.name, "email": _value(preference.email)}
            for preference, space in db.session.execute(
                select(SpaceEmailPreference, Space)
                .join(Space, Space.id == SpaceEmailPreference.space_id)
                .where(SpaceEmailPreference.user_id == user.id)
                .order_by(Space.name)
            )
        ],
    }


def _memberships(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Membership)
        .where(Membership.user_id == user.id)
        .options(selectinload(Membership.space))
        .order_by(Membership.created_at)
    )
    return [
        {
            "space": row.space.name,
            "role": _value(row.role),
            "state": _value(row.state),
            "since": _when(row.created_at),
            "changed_at": _when(row.updated_at),
        }
        for row in rows
    ]


def _posts(user: User) -> list[dict[str, Any]]:
    posts = db.session.scalars(
        select(Post)
        .where(Post.author_id == user.id)
        .options(selectinload(Post.thread).selectinload(Thread.space))
        .order_by(Post.id)
    ).all()
    earlier: dict[int, list[PostRevision]] = {}
    for revision in db.session.scalars(
        select(PostRevision)
        .where(PostRevision.post_id.in_([post.id for post in posts]))
        .order_by(PostRevision.id)
    ):
        earlier.setdefault(revision.post_id, []).append(revision)
    written = []
    for post in posts:
        hidden, removed = post.hidden_at is not None, post.deleted_at is not None
        entry = {
            "id": post.id,
            "thread": _thread_ref(user, post.thread),
            "opening_post": post.root_id is None,
            "written_at": _when(post.created_at),
            "edited_at": _when(post.edited_at),
            **_text(post.body_source, hidden, removed),
            "helpful_marks": post.helpful_count,
        }
        if not (hidden or removed):
            entry["earlier_versions"] = [
                {"saved_until": _when(revision.created_at), "text": revision.body_source}
                for revision in earlier.get(post.id, [])
            ]
        written.append(entry)
    return written


def _chat(user: User) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    messages = db.session.scalars(
        select(ChatMessage)
        .where(ChatMessage.author_id == user.id)
        .options(selectinload(ChatMessage.event).selectinload(Event.space))
        .order_by(ChatMessage.id)
    )
    questions = db.session.scalars(
        select(Question)
        .where(Question.author_id == user.id)
        .options(selectinload(Question.event).selectinload(Event.space))
        .order_by(Question.id)
    )
    return (
        [
            {
                "event": _event_ref(user, message.event),
                "sent_at": _when(message.created_at),
                **_text(
                    message.body_source,
                    message.hidden_at is not None,
                    message.deleted_at is not None,
                ),
            }
            for message in messages
        ],
        [
            {
                "event": _event_ref(user, question.event),
                "asked_at": _when(question.created_at),
                "status": _value(question.status),
                "votes": question.vote_count,
                **_text(question.body_source, False, question.removed_at is not None),
            }
            for question in questions
        ],
    )


def _resources(user: User) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Resources the member shared, and the file versions they uploaded (of theirs or others')."""
    resources = db.session.scalars(
        select(Resource)
        .where(Resource.created_by_id == user.id)
        .options(selectinload(Resource.space))
        .order_by(Resource.id)
    ).all()
    versions = db.session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.created_by_id == user.id)
        .options(selectinload(ResourceVersion.resource))
        .order_by(ResourceVersion.id)
    ).all()
    sections: dict[int, dict[str, str]] = {}
    for section in db.session.scalars(
        select(CaseStudySection).where(
            CaseStudySection.resource_id.in_([resource.id for resource in resources])
        )
    ):
        sections.setdefault(section.resource_id, {})[_value(section.name)] = section.source
    shared = []
    for resource in resources:
        hidden = resource.hidden_at is not None
        shared.append(
            {
                "id": resource.id,
                "space": resource.space.name,
                "title": resource.title,
                "kind": _value(resource.kind),
                "type": _value(resource.type),
                "shared_at": _when(resource.created_at),
                "removed": resource.deleted_at is not None,
                "licence": _value(resource.licence),
                "classification": _value(resource.classification),
                "link": resource.link_url,
                **{
                    ("summary" if key == "text" else key): value
                    for key, value in _text(resource.summary_source, hidden).items()
                },
                "case_study_sections": None if hidden else sections.get(resource.id),
            }
        )
    uploads = [
        {
            "resource_id": version.resource_id,
            "resource": version.resource.title,
            "version": version.number,
            "filename": version.filename,
            "type": version.mime,
            "bytes": version.size,
            "sha256": version.sha256,
            "change_note": version.change_note,
            "uploaded_at": _when(version.created_at),
            "withdrawn_at": _when(version.withdrawn_at),
        }
        for version in versions
    ]
    return shared, uploads


def _marks(user: User) -> dict[str, Any]:
    rows = db.session.execute
    return {
        "helpful": [
            {
                "post_id": mark.post_id,
                "thread": _thread_ref(user, thread),
                "at": _when(mark.created_at),
            }
            for mark, thread in rows(
                select(HelpfulMark, Thread)
                .join(Post, Post.id == HelpfulMark.post_id)
                .join(Thread, Thread.id == Post.thread_id)
                .where(HelpfulMark.user_id == user.id)
                .order_by(HelpfulMark.created_at)
            )
        ],
        "threads_followed_or_muted": [
            {
                "thread": _thread_ref(user, thread),
                "state": _value(follow.state),
                "since": _when(follow.created_at),
            }
            for follow, thread in rows(
                select(ThreadSubscription, Thread)
                .join(Thread, Thread.id == ThreadSubscription.thread_id)
                .where(ThreadSubscription.user_id == user.id)
                .order_by(ThreadSubscription.created_at)
            )
        ],
        "spaces_followed": [
            {"space": space.name, "since": _when(follow.created_at)}
            for follow, space in rows(
                select(SpaceSubscription, Space)
                .join(Space, Space.id == SpaceSubscription.space_id)
                .where(SpaceSubscription.user_id == user.id)
            )
        ],
        "event_answers": [
            {
                "event": _event_ref(user, rsvp_event),
                "answer": _value(rsvp.status),
                "waiting_list": rsvp.waitlisted,
                "at": _when(rsvp.updated_at),
            }
            for rsvp, rsvp_event in rows(
                select(Rsvp, Event)
                .join(Event, Event.id == Rsvp.event_id)
                .where(Rsvp.user_id == user.id)
                .order_by(Rsvp.created_at)
            )
        ],
        "resources_saved": [
            {"resource_id": saved.resource_id, "at": _when(saved.created_at)}
            for saved in db.session.scalars(
                select(SavedResource).where(SavedResource.user_id == user.id)
            )
        ],
        "resources_in_use": [
            {"resource_id": use.resource_id, "at": _when(use.created_at)}
            for use in db.session.scalars(select(ResourceUse).where(ResourceUse.user_id == user.id))
        ],
    }


def _reports(user: User) -> list[dict[str, Any]]:
    """What the member reported: the reason and their note (not the reported text, which is
    someone else's, nor who dealt with it)."""
    reports = [
        {"about": "post" if flag.post_id else "chat message", "reason": _value(flag.reason),
         "note": flag.note, "at": _when(flag.created_at), "dealt_with": flag.resolved_at is not None}
        for flag in db.session.scalars(select(Flag).where(Flag.reporter_id == user.id))
    ]  # fmt: skip
    reports += [
        {"about": "resource", "resource_id": flag.resource_id, "reason": _value(flag.reason),
         "note": flag.note, "at": _when(flag.created_at), "dealt_with": flag.resolved_at is not None}
        for flag in db.session.scalars(
            select(ResourceFlag).where(ResourceFlag.reporter_id == user.id)
        )
    ]  # fmt: skip
    return reports


def member_data(user: User) -> dict[str, Any]:
    """Everything :mod:`this module <peerlearn.accounts.data_export>` describes, for ``user``."""
    # Every space once (a few hundred rows), so each thread's and event's space comes from the
    # session, and the reader's memberships of them in one statement, for the policy's checks.
    spaces = db.session.scalars(select(Space)).all()
    remember_memberships(user, [space.id for space in spaces])
    chat_messages, questions = _chat(user)
    resources, file_versions = _resources(user)
    return {
        "about": (
            "Your data on peerlearn: what you gave and did. Text a moderator hid is left out, "
            "and uploaded files are listed, not included (download each from its page)."
        ),
        "generated_at": _when(utcnow()),
        "account": _account(user),
        "memberships": _memberships(user),
        "posts": _posts(user),
        "chat_messages": chat_messages,
        "questions": questions,
        "resources": resources,
        "file_versions_uploaded": file_versions,
        **_marks(user),
        "reports": _reports(user),
    }
