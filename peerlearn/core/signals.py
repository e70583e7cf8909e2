"""Documented signals features use to react to each other without importing each other's views.

``membership_changed``
    Sent with the :class:`~peerlearn.spaces.models.Space` as sender and ``user`` (the member whose
    standing changed), ``state`` (the new :class:`~peerlearn.spaces.models.MemberState`, or None
    when the membership was removed) after the change is committed. Live features use it to drop
    a removed member from the space's rooms at once; notifications send the member their new
    header count. (Search needs nothing from it: it applies memberships inside each query.)

``standing_changing``
    Sent with a :class:`~peerlearn.accounts.models.User` as sender and ``space`` inside the unit of
    work that narrows what they may do, once the change is flushed and before it is committed:
    their membership of ``space`` ends (removed, banned, they left, or a request, an invitation
    or a ban ended; ``banned`` True when it ends in a ban), or (``space`` None) an administrator
    deactivates their account or takes away their network administrator role. Receivers write in that unit of work and never commit: if
    one fails, the change fails with it, and nothing is left half done. Events withdraw here the
    answers the person may no longer give to events still to come; a ban ends the person's follows
    of the space and its threads.

``space_changed``
    Sent with the space as sender after its settings (visibility, archive state, …) are committed.
    The live chat drops people who may no longer read it (a space made private) from its events'
    chats; notifications send those with unread notifications from the space their new header
    count.

``post_created``
    Sent with the new :class:`~peerlearn.discussions.models.Post` as sender after it is committed,
    with ``mentioned`` (users the post mentions who can see it) and ``new_thread`` (True for a
    thread's opening post). Notifications fan out from here; search indexes from here.

``post_edited``
    Sent with the post after an edit is committed, with ``mentioned`` (users newly mentioned by
    the edit who can see it) and ``by`` (who edited it: the author, or a moderator). Mentions
    added by the edit are told in the editor's name.

``post_removed``
    Sent with the post after it is deleted or hidden (and ``post_restored`` after a moderator
    restores it), so indexes and counts can follow: its notifications leave (or rejoin) the
    centre, and those who had them unread are sent their new header count.

``post_marked``
    Sent with the post after a member marks it helpful (``how="helpful"``) or takes the mark
    back (``how="unhelpful"``), or the asker marks it as the answer (``how="solved"``), with
    ``by`` (the member who marked it). Notifications tell the author; search re-ranks the reply.

``posts_read``
    Sent with the :class:`~peerlearn.accounts.models.User` as sender and ``post_ids`` (the posts a
    thread page is about to show them in full: not those removed or hidden, shown as placeholders)
    inside the page's unit of work, before it is rendered. Receivers never commit, and return
    True when they wrote: the page then commits before rendering
    (:func:`~peerlearn.core.db.commit_keeping_loaded`), not holding the write while it renders.
    Notifications mark read the member's notifications about those posts, as opening each from
    the centre would, so that the header the page renders counts only what is left.

``thread_changed``
    Sent with the thread after a moderator pins, locks, hides, restores or moves it. Its
    notifications follow a move, and those who have them unread are sent their header count.

``event_changed``
    Sent with the :class:`~peerlearn.events.models.Event` after it is created, edited,
    cancelled or reinstated (committed). Search indexes from here.

``event_rearranged``
    Sent with the :class:`~peerlearn.events.models.Event` as sender, ``by`` (the
    :class:`~peerlearn.accounts.models.User` who edited it) and ``change`` (a
    :class:`~peerlearn.events.changes.Rearrangement`: its times and venue before and after, and
    how its joining link changed) once an edit that changed when or where it happens has
    committed (:func:`~peerlearn.core.db.send_committed`); never for one rolled back.
    Notifications tell those who answered it.

``event_cancelled``
    Sent with the :class:`~peerlearn.events.models.Event` as sender and ``by`` (who cancelled it)
    once its cancellation has committed (:func:`~peerlearn.core.db.send_committed`).
    Notifications tell those who answered it.

``event_reinstated``
    Sent like ``event_cancelled`` once the cancellation has been taken back and the event goes
    ahead again. Notifications tell those who answered it, who were told it was cancelled.

``place_given``
    Sent with the :class:`~peerlearn.events.models.Event` as sender and ``user_ids`` (the people
    just given a place) once the transaction that gave them places from its waiting list has
    committed, whoever committed it (someone answering "not going", the event given more places,
    a withdrawal in a removal, ban or deactivation: :func:`~peerlearn.core.db.send_committed`);
    never for one rolled back. Notifications tell each of them, in the centre and by e-mail.

``person_changed``
    Sent with the :class:`~peerlearn.accounts.models.User` after they register or save their
    profile (committed). Search indexes people from here.

``account_changed``
    Sent with the :class:`~peerlearn.accounts.models.User` after an administrator deactivates or
    reactivates the account, or gives or takes away the network administrator role (committed):
    what they may read has changed. The live chat drops them from chats they may no longer read;
    the header count closes their room (its connections connect again, or are refused).

``sign_ins_ended``
    Sent with the :class:`~peerlearn.accounts.models.User` after one or all of their sign-ins
    ended (committed): they signed out, signed out every other browser, or changed or reset
    their password. The live chat closes their connections, and the header count their room, so
    that only browsers still signed in reconnect.

``organisation_changed``
    Sent with the :class:`~peerlearn.organisations.models.Organisation` after an administrator
    renames it (committed). Search re-files its people and the resources that came from it, whose
    rows carry its name.

``resource_changed``
    Sent with the :class:`~peerlearn.resources.models.Resource` after it is shared, edited, given
    a new version, hidden or restored (by a moderator or a report that hides it) or removed
    (committed). Search indexes the library from here.

``chat_message_changed``
    Sent with the :class:`~peerlearn.events.models.ChatMessage` after a moderation decision
    hid it, restored it or removed it (committed): the live chat tells every screen in the room
    from here, as it does a removal by its author.
"""

from blinker import Namespace

_signals = Namespace()

membership_changed = _signals.signal("membership-changed")
space_changed = _signals.signal("space-changed")
post_created = _signals.signal("post-created")
post_edited = _signals.signal("post-edited")
post_removed = _signals.signal("post-removed")
post_restored = _signals.signal("post-restored")
post_marked = _signals.signal("post-marked")
posts_read = _signals.signal("posts-read")
thread_changed = _signals.signal("thread-changed")
event_changed = _signals.signal("event-changed")
event_rearranged = _signals.signal("event-rearranged")
event_cancelled = _signals.signal("event-cancelled")
event_reinstated = _signals.signal("event-reinstated")
place_given = _signals.signal("place-given")
person_changed = _signals.signal("person-changed")
account_changed = _signals.signal("account-changed")
standing_changing = _signals.signal("standing-changing")
sign_ins_ended = _signals.signal("sign-ins-ended")
organisation_changed = _signals.signal("organisation-changed")
resource_changed = _signals.signal("resource-changed")
chat_message_changed = _signals.signal("chat-message-changed")
