"""Organisations, members, spaces, memberships and tags for the generated network.

Each method returns rows (dicts keyed by column) and keeps what later steps need to know: who
belongs where, which spaces are busiest, when each member joined.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from bench import vocabulary as words
from peerlearn.core.text import fold_name

DAY = 86_400.0
#: The benchmark reader is always user 2 (user 1 is the network administrator).
READER_ID = 2
REGIONS = (
    "north-east-and-yorkshire", "north-west", "midlands", "east-of-england", "london",
    "south-east", "south-west",
)  # fmt: skip


def at(seconds: float) -> datetime:
    """A Unix time as an aware UTC datetime, as the models store it."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class Joined:
    """An active membership, for read positions and follows."""

    user_id: int
    space_id: int
    at: float


class People:
    """Who is in the network and where they meet."""

    def __init__(self, rng: random.Random, now: float, start: float, password_hash: str) -> None:
        self.rng, self.now, self.start, self.password_hash = rng, now, start, password_hash
        self.trusts: list[int] = []
        self.user_created: dict[int, float] = {}
        self.archived: set[int] = set()
        self.busiest = 0
        #: Space id → relative popularity (Zipf-like): how many members and threads it attracts.
        self.popularity: dict[int, float] = {}
        #: Space id → its active members, who are the ones who write in it.
        self.members: dict[int, list[int]] = {}
        self.joined: list[Joined] = []
        self.reader_spaces: set[int] = set()
        self.space_tags: dict[int, list[int]] = {}

    def organisations(self) -> list[dict]:
        created = at(self.start)

        def add(name: str, kind: str, region: str | None, parent: int | None) -> int:
            rows.append({"id": len(rows) + 1, "name": name, "kind": kind, "region": region,
                         "parent_id": parent, "ods_code": None, "created_at": created})  # fmt: skip
            return len(rows)

        rows: list[dict] = []
        national = add("NHS England", "national", None, None)
        regions = {}
        for region in REGIONS:
            label = region.replace("-", " ").title().replace(" And ", " and ")
            regions[region] = add(f"NHS England – {label.replace(' Of ', ' of ')}", "region", region, national)  # fmt: skip
        for place in words.PLACES:
            region = self.rng.choice(REGIONS)
            system = add(f"{place} Integrated Care System", "ics", region, regions[region])
            add(f"NHS {place} Integrated Care Board", "icb", region, system)
            for kind in self.rng.sample(words.TRUST_KINDS, k=3):
                self.trusts.append(add(f"{place} {kind} NHS Foundation Trust", "trust", region, system))  # fmt: skip
        return rows

    def users(self, count: int, reader_email: str) -> list[dict]:
        rows = []
        for n in range(1, count + 1):
            created = self.start - 30 * DAY + self.rng.random() * 700 * DAY
            email, name, role = (
                f"member{n}@peerlearn.example",
                words.person_name(self.rng),
                "member",
            )
            if n == 1:
                email, name, role = "admin@peerlearn.example", "Network Administrator", "admin"
            elif n == READER_ID:
                email, name, created = reader_email, "Bench Reader", self.start
            self.user_created[n] = created
            rows.append({
                "id": n, "email": email, "handle": f"member-{n}", "display_name": name,
                "name_key": fold_name(name),
                "job_title": self.rng.choice(words.JOB_TITLES),
                "organisation_id": self.rng.choice(self.trusts), "bio_source": "",
                "bio_html": "", "password_hash": self.password_hash, "site_role": role,
                "active": True, "email_confirmed_at": at(created),
                "created_at": at(created),
                "last_seen_at": at(self.now - self.rng.random() * 30 * DAY),
            })  # fmt: skip
        return rows

    def spaces(self, count: int, busiest_name: str) -> list[dict]:
        """Communities, then special interest groups in them; the first group is the busiest."""
        communities = max(1, min(len(words.COMMUNITIES), count // 16))
        self.busiest = communities + 1
        rows: list[dict] = []
        names: set[str] = set()
        for n in range(1, count + 1):
            kind, parent = "sig", self.rng.randrange(1, communities + 1)
            visibility = self.rng.choices(["network", "public", "private"], [70, 15, 15])[0]
            join = self.rng.choices(["open", "request", "invite"], [60, 30, 10])[0]
            archived = at(self.now - 90 * DAY) if self.rng.random() < 0.03 else None
            if n <= communities:
                kind, parent, name, visibility = "community", None, words.COMMUNITIES[n - 1], "network"  # fmt: skip
            elif n == self.busiest:
                parent, name, visibility, join, archived = 1, busiest_name, "network", "open", None
            else:
                name = f"{self.rng.choice(words.TOPICS)} SIG"
                while name in names:
                    name = f"{self.rng.choice(words.TOPICS)} SIG – {self.rng.choice(words.PLACES)}"
            names.add(name)
            slug = words.slugify(name)[:70] + ("" if n == self.busiest else f"-{n}")
            rows.append({
                "id": n, "kind": kind, "parent_id": parent, "slug": slug, "name": name,
                "summary": f"A space about {name}.", "description_source": "",
                "description_html": "", "visibility": visibility, "join_policy": join,
                "archived_at": archived, "created_at": at(self.start), "created_by_id": 1,
            })  # fmt: skip
            if archived is not None:
                self.archived.add(n)
        order = [s for s in range(1, count + 1) if s != self.busiest]
        self.rng.shuffle(order)
        for rank, space_id in enumerate([self.busiest, *order], start=1):
            self.popularity[space_id] = 1 / rank**0.9
        return rows

    def memberships(self) -> list[dict]:
        """Each member joins a handful of spaces, popular ones more often; the reader belongs to
        the forty busiest. Each space has an owner and a moderator, and at least three members."""
        spaces = sorted(self.popularity, key=self.popularity.__getitem__, reverse=True)
        weights = [self.popularity[s] for s in spaces]
        self.members = {space: [] for space in spaces}
        rows: list[dict] = []
        taken: set[tuple[int, int]] = set()

        def join(user: int, space: int, when: float, active: bool = True) -> None:
            taken.add((space, user))
            rows.append({"id": len(rows) + 1, "space_id": space, "user_id": user,
                         "role": "member", "state": "active" if active else "requested",
                         "invited_by_id": None, "created_at": at(when), "updated_at": at(when)})  # fmt: skip
            if active:
                self.members[space].append(user)
                self.joined.append(Joined(user, space, when))

        for user in sorted(self.user_created):
            if user == READER_ID:
                chosen = spaces[:40]
            else:
                wanted = 1 + int(self.rng.expovariate(1 / 5))
                chosen = sorted(set(self.rng.choices(spaces, weights, k=wanted)))
            for space in chosen:
                when = max(self.start, self.user_created[user]) + self.rng.random() * 30 * DAY
                join(user, space, when, active=user == READER_ID or self.rng.random() > 0.02)
        for space in spaces:
            while len(self.members[space]) < 3:
                user = self.rng.randrange(3, len(self.user_created) + 1)
                if (space, user) not in taken:
                    join(user, space, self.start)
        staff: dict[int, list[str]] = {space: ["owner", "moderator"] for space in spaces}
        for row in rows:
            if row["state"] == "active" and row["user_id"] != READER_ID and staff[row["space_id"]]:
                row["role"] = staff[row["space_id"]].pop(0)
        self.reader_spaces = {row["space_id"] for row in rows if row["user_id"] == READER_ID}
        return rows

    def tags(self) -> list[dict]:
        rows: list[dict] = []
        for space in sorted(self.popularity):
            self.space_tags[space] = []
            for name in self.rng.sample(words.TAGS, k=8):
                rows.append({"id": len(rows) + 1, "space_id": space, "name": name,
                             "slug": words.slugify(name)})  # fmt: skip
                self.space_tags[space].append(len(rows))
        return rows
