"""Who is in an event's chat now: one entry per person however many tabs they have open.

Presence is a set of connections (Socket.IO sids) per event, each with its user. It lives in Redis
when ``REDIS_URL`` is configured, so that every server process sees the same list, and in this
process's memory otherwise (a single process). Both stores have the same small interface.

Stale entries: a process that dies never sees its clients disconnect. In Redis each entry is
stored under its process's id, and each process keeps a heartbeat key alive (refreshed every
``HEARTBEAT`` seconds, expiring after ``HEARTBEAT_TTL``); entries whose process has no heartbeat are
ignored and deleted when the list is next read, so a dead process's people drop out within a
minute. Its clients reconnect to a live process and join again. In memory, entries die with the
process that holds them.
"""

import logging
import threading
import time
import uuid
from collections import defaultdict
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.core.signals import organisation_changed, person_changed
from peerlearn.events.chat import author_payload
from peerlearn.extensions import db, socketio

logger = logging.getLogger(__name__)

#: Seconds between a process's heartbeats, and how long a heartbeat outlives a dead process.
HEARTBEAT = 20
HEARTBEAT_TTL = 60


class PresenceStore(Protocol):
    """Connections present in each event's chat."""

    def add(self, event_id: int, sid: str, user_id: int) -> None:
        """Record that connection ``sid`` of ``user_id`` is in the event's chat."""

    def discard(self, event_id: int, sid: str) -> None:
        """Forget connection ``sid`` in the event's chat (nothing if it was not there)."""

    def connections(self, event_id: int) -> dict[str, int]:
        """The live connections in the event's chat: sid -> user id."""

    def event_ids(self) -> set[int]:
        """The events whose chat may have someone in it (maybe also a few that a dead process
        left behind: :meth:`connections` tells)."""


class MemoryPresence:
    """Presence in this process's memory: right for a single server process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[int, dict[str, int]] = defaultdict(dict)

    def add(self, event_id: int, sid: str, user_id: int) -> None:
        with self._lock:
            self._events[event_id][sid] = user_id

    def discard(self, event_id: int, sid: str) -> None:
        with self._lock:
            self._events.get(event_id, {}).pop(sid, None)

    def connections(self, event_id: int) -> dict[str, int]:
        with self._lock:
            return dict(self._events.get(event_id, {}))

    def event_ids(self) -> set[int]:
        with self._lock:
            return {event_id for event_id, present in self._events.items() if present}


class RedisPresence:
    """Presence in Redis, shared by every server process: a hash per event whose fields are sids
    and values ``<user id> <process id>``, and a heartbeat key per process."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self.process = uuid.uuid4().hex
        self._beating = False
        self._lock = threading.Lock()

    def _event_key(self, event_id: int) -> str:
        return f"{self._prefix}:event:{event_id}"

    def _heartbeat_key(self, process: str) -> str:
        return f"{self._prefix}:process:{process}"

    def beat(self) -> None:
        """Say this process is alive for another ``HEARTBEAT_TTL`` seconds."""
        self._redis.set(self._heartbeat_key(self.process), "1", ex=HEARTBEAT_TTL)

    def _keep_beating(self) -> None:
        while True:
            socketio.sleep(HEARTBEAT)
            try:
                self.beat()
            except Exception:  # Redis away for a moment: try again at the next beat
                logger.exception("presence heartbeat failed")

    def _start(self) -> None:
        with self._lock:
            if self._beating:
                return
            self._beating = True
        self.beat()
        socketio.start_background_task(self._keep_beating)

    def add(self, event_id: int, sid: str, user_id: int) -> None:
        self._start()
        self._redis.hset(self._event_key(event_id), sid, f"{user_id} {self.process}")

    def discard(self, event_id: int, sid: str) -> None:
        self._redis.hdel(self._event_key(event_id), sid)

    def connections(self, event_id: int) -> dict[str, int]:
        key = self._event_key(event_id)
        entries = {
            sid: value.split(" ", 1)
            for sid, value in self._redis.hgetall(key).items()  # type: ignore[union-attr]
        }
        processes = sorted({process for _, process in entries.values()})
        beats = self._redis.mget([self._heartbeat_key(p) for p in processes]) if processes else []
        alive = {process for process, beat in zip(processes, beats, strict=True) if beat}  # type: ignore[arg-type]
        stale = [sid for sid, (_, process) in entries.items() if process not in alive]
        if stale:
            self._redis.hdel(key, *stale)
        return {sid: int(user) for sid, (user, process) in entries.items() if process in alive}

    def event_ids(self) -> set[int]:
        # Redis deletes a hash with its last field, so each key left is a chat with entries.
        keys = self._redis.scan_iter(match=f"{self._prefix}:event:*", count=1_000)
        return {int(key.rsplit(":", 1)[1]) for key in keys}


def store() -> PresenceStore:
    """The application's presence store (Redis when ``REDIS_URL`` is set)."""
    app = current_app
    existing = app.extensions.get("peerlearn_presence")
    if existing is None:
        url = app.config.get("REDIS_URL")
        prefix = app.config.get("PEERLEARN_PRESENCE_PREFIX", "peerlearn:presence")
        existing = RedisPresence(url, prefix) if url else MemoryPresence()
        existing = app.extensions.setdefault("peerlearn_presence", existing)
    return existing  # type: ignore[no-any-return]


#: How long a process keeps a present person's name and organisation before reading them again.
PERSON_SECONDS = 60.0


class People:
    """Present people's entries (the contract's ``person``: id, name, organisation), kept in this
    process for :data:`PERSON_SECONDS`, so that each join reads only newcomers from the database
    rather than everyone in the room (at 2,000 people that was 40 ms a join, and a big event's
    opening minutes are thousands of joins). A profile saved or an organisation renamed in this
    process is seen at once; one saved in another process within :data:`PERSON_SECONDS`."""

    def __init__(self, seconds: float = PERSON_SECONDS, clock: Any = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()  # threading mode: joins run side by side
        self._entries: dict[int, tuple[float, dict[str, Any]]] = {}
        #: Bumped by :meth:`forget`: entries read from the database before it are not kept.
        self._generation = 0

    def entries(self, user_ids: set[int]) -> list[dict[str, Any]]:
        """The entries of these people who still exist, sorted by name."""
        now = self._clock()
        found: dict[int, dict[str, Any]] = {}
        with self._lock:
            for user_id in user_ids:
                kept = self._entries.get(user_id)
                if kept is not None and kept[0] > now:
                    found[user_id] = kept[1]
            generation = self._generation
        missing = user_ids - found.keys()
        if missing:  # read outside the lock: the database is the slow part
            users = db.session.scalars(
                select(User).where(User.id.in_(missing)).options(selectinload(User.organisation))
            )
            read = {user.id: author_payload(user) for user in users}
            found.update(read)
            with self._lock:
                if generation == self._generation:  # nobody was forgotten meanwhile
                    for user_id, person in read.items():
                        self._entries[user_id] = (now + self.seconds, person)
                if len(self._entries) > 2 * len(user_ids) + 1_000:  # forget the long gone
                    self._entries = {
                        key: kept for key, kept in self._entries.items() if kept[0] > now
                    }
        return sorted(found.values(), key=lambda person: (person["name"].casefold(), person["id"]))

    def forget(self, user_id: int | None = None) -> None:
        """Read this person (everyone, without an id) from the database next time."""
        with self._lock:
            self._generation += 1
            if user_id is None:
                self._entries.clear()
            else:
                self._entries.pop(user_id, None)


def _people() -> People:
    return current_app.extensions.setdefault("peerlearn_present_people", People())  # type: ignore[no-any-return]


@person_changed.connect
def _on_person_changed(user: User, **extra: Any) -> None:
    _people().forget(user.id)


@organisation_changed.connect
def _on_organisation_changed(organisation: Any, **extra: Any) -> None:
    _people().forget()


def people(event_id: int) -> list[dict[str, Any]]:
    """The people in an event's chat, one entry each, sorted by name (the contract's ``person``)."""
    user_ids = set(store().connections(event_id).values())
    return _people().entries(user_ids) if user_ids else []


def sids_of(event_id: int, user_id: int) -> list[str]:
    """The connections ``user_id`` has in the event's chat."""
    return [sid for sid, user in store().connections(event_id).items() if user == user_id]
