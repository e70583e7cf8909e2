"""Threads, posts and everything reading and writing leaves behind, for the generated network.

Post ids follow time, as the read tracking assumes: every post is given a time first, then ids in
time order. Reply trees are kept as ``peerlearn.discussions.services.reply`` keeps them: a
top-level reply is its own root with a one-segment path; a deeper reply extends its parent's path
with its own zero-padded id.
"""

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

from bench import vocabulary as words
from bench.people import DAY, READER_ID, People, at

#: Thread 0 (id 1) is the one the load script reads: 1 opening post and 49 replies.
FIFTY = 49
#: Replies deeper than this go back to the top level (the app has no limit; paths do).
MAX_DEPTH = 8


@dataclass
class Reply:
    id: int
    depth: int
    path: str
    root_id: int


class Discussions:
    """Threads and posts across the network's spaces, and the reading and following around them."""

    def __init__(self, people: People, threads: int, posts: int, fifty_title: str) -> None:
        self.people, self.rng = people, people.rng
        self.count, self.total_posts, self.fifty_title = threads, posts, fifty_title
        self.space: list[int] = []
        self.started: list[float] = []
        self.post_times: list[float] = []
        self.post_threads: list[int] = []
        #: Per thread: (post id, author id) in id order, the opening post first.
        self.thread_posts: list[list[tuple[int, int]]] = []
        self.solved: list[dict] = []

    def plan(self) -> None:
        """Each thread's space, start and number of replies; then every post's time and id.

        Reply counts are heavy-tailed (log-normal weights): most threads are short, a few run to
        hundreds of posts. Replies come soon after the thread starts, fewer as it ages."""
        rng, people = self.rng, self.people
        writable = [s for s in people.popularity if s not in people.archived]
        weights = [people.popularity[s] for s in writable]
        self.space = [people.busiest, *rng.choices(writable, weights, k=self.count - 1)]
        span = people.now - people.start
        self.started = [people.now - 3 * DAY]
        self.started += [people.start + span * rng.random() ** 0.7 for _ in range(self.count - 1)]
        replies = self.total_posts - self.count - FIFTY
        shares = [0.0] + [rng.lognormvariate(0, 1.4) for _ in range(self.count - 1)]
        total = sum(shares)
        counts = [FIFTY] + [int(share / total * replies) for share in shares[1:]]
        for _ in range(self.total_posts - self.count - sum(counts)):
            counts[rng.randrange(1, self.count)] += 1
        events = []
        for t, started in enumerate(self.started):
            window = min(people.now - started, (3 if t == 0 else 45) * DAY)
            events.append((started, t))
            events.extend((started + 1 + window * rng.random() ** 2, t) for _ in range(counts[t]))
        events.sort()
        self.post_times = [when for when, _ in events]
        self.post_threads = [t for _, t in events]

    def posts_and_threads(self, bodies: list[tuple[str, str]]) -> tuple[list[dict], list[dict]]:
        """Every post in id order, and every thread with its counters as the services keep them."""
        rng, members = self.rng, self.people.members
        fifty_writers = [user for user in members[self.space[0]] if user != READER_ID][:10]
        authors = [fifty_writers[0]] + [rng.choice(members[s]) for s in self.space[1:]]
        trees: list[list[Reply]] = [[] for _ in range(self.count)]
        self.thread_posts = [[] for _ in range(self.count)]
        newest_visible = [0] * self.count
        visible_replies = [0] * self.count
        posts = []
        for post_id, (when, t) in enumerate(
            zip(self.post_times, self.post_threads, strict=True), 1
        ):
            tree, removed = trees[t], {"deleted_at": None, "hidden_at": None, "edited_at": None}
            if not self.thread_posts[t]:
                author, parent, place = authors[t], None, {"root_id": None, "path": "", "depth": 0}
            else:
                if t == 0:  # seven trees of seven posts, six deep: all on page 1
                    author = fifty_writers[len(tree) % len(fifty_writers)]
                    parent = None if len(tree) % 7 == 0 else tree[-1]
                else:
                    author = rng.choice(members[self.space[t]])
                    recent = [reply for reply in tree[-8:] if reply.depth < MAX_DEPTH]
                    parent = rng.choice(recent) if recent and rng.random() < 0.5 else None
                    removed = self._fate(when)
                if parent is None:
                    reply = Reply(post_id, 0, f"{post_id:010d}", post_id)
                else:
                    path = f"{parent.path}.{post_id:010d}"
                    reply = Reply(post_id, parent.depth + 1, path, parent.root_id)
                tree.append(reply)
                place = {"root_id": reply.root_id, "path": reply.path, "depth": reply.depth}
                visible_replies[t] += removed["deleted_at"] is None and removed["hidden_at"] is None
            if removed["deleted_at"] is None and removed["hidden_at"] is None:
                newest_visible[t] = post_id
            self.thread_posts[t].append((post_id, author))
            source, html = bodies[rng.randrange(len(bodies))]
            posts.append({
                "id": post_id, "thread_id": t + 1, "author_id": author,
                "parent_id": parent.id if parent else None, **place, "body_source": source,
                "body_html": html, "created_at": at(when), **removed,
                "deleted_by_id": author if removed["deleted_at"] else None, "helpful_count": 0,
                "submission_key": None,
            })  # fmt: skip
        threads = [
            self._thread(t, authors[t], newest_visible[t], visible_replies[t], posts)
            for t in range(self.count)
        ]
        return posts, threads

    def _fate(self, when: float) -> dict:
        """A few replies are deleted by their author, hidden by a moderator, or edited."""
        roll = self.rng.random()
        return {
            "deleted_at": at(when + 3600) if roll < 0.004 else None,
            "hidden_at": at(when + 7200) if 0.004 <= roll < 0.006 else None,
            "edited_at": at(when + 600) if 0.006 <= roll < 0.036 else None,
        }

    def _thread(self, t: int, author: int, newest: int, replies: int, posts: list[dict]) -> dict:
        rng = self.rng
        question = t != 0 and rng.random() < 0.25
        answers = [
            post_id
            for post_id, _ in self.thread_posts[t][1:]
            if posts[post_id - 1]["deleted_at"] is None and posts[post_id - 1]["hidden_at"] is None
        ]
        if question and answers and rng.random() < 0.4:
            self.solved.append({"thread": t + 1, "post": rng.choice(answers)})
        flag = rng.random() if t != 0 else 1.0
        return {
            "id": t + 1, "space_id": self.space[t], "author_id": author,
            "title": self.fifty_title if t == 0 else words.thread_title(rng),
            "kind": "question" if question else "discussion", "created_at": at(self.started[t]),
            "last_activity_at": at(self.post_times[newest - 1]), "reply_count": replies,
            "pinned": flag < 0.01, "locked": 0.01 <= flag < 0.02, "hidden": 0.02 <= flag < 0.025,
            "solved_post_id": None, "slow_mode_seconds": 0, "last_post_id": newest,
        }  # fmt: skip

    # Labels, marks, reading, following, notifying -----------------------------------------------

    def components(self) -> Iterator[dict]:
        names = ["shared-purpose", "people-and-culture", "leadership-behaviours",
                 "capability-and-capacity", "management-systems"]  # fmt: skip
        for t in range(self.count):
            for name in self.rng.sample(names, k=self.rng.choice((0, 1, 1, 2))):
                yield {"thread_id": t + 1, "component": name}

    def thread_tags(self) -> Iterator[dict]:
        for t in range(self.count):
            tags = self.people.space_tags[self.space[t]]
            for tag in self.rng.sample(tags, k=self.rng.choice((0, 1, 2, 3))):
                yield {"thread_id": t + 1, "tag_id": tag}

    def helpful_marks(self) -> tuple[list[dict], list[dict]]:
        """Marks on about 3% of posts, and each marked post's count to match."""
        rows, counts = [], []
        for t in range(self.count):
            members = self.people.members[self.space[t]]
            for post_id, author in self.thread_posts[t]:
                if self.rng.random() < 0.03:
                    markers = {self.rng.choice(members) for _ in range(1 + self.rng.randrange(3))}
                    markers.discard(author)
                    when = at(self.post_times[post_id - 1] + DAY)
                    rows += [
                        {"post_id": post_id, "user_id": u, "created_at": when} for u in markers
                    ]
                    if markers:
                        counts.append({"post": post_id, "count": len(markers)})
        return rows, counts

    def follows_and_reads(self) -> tuple[list[dict], list[dict]]:
        """Everyone who posted in a thread follows it and has read it up to their last post; the
        reader has also read part of many threads in their spaces, and is part-way through the
        fifty-post thread."""
        follows, reads = [], []
        for t in range(self.count):
            read_to: dict[int, int] = {}
            for post_id, author in self.thread_posts[t]:
                read_to[author] = post_id
            in_reader_space = self.space[t] in self.people.reader_spaces
            if in_reader_space and READER_ID not in read_to and self.rng.random() < 0.3:
                read_to[READER_ID] = self.rng.choice(self.thread_posts[t])[0]
            if t == 0:
                read_to[READER_ID] = self.thread_posts[0][30][0]
            for user, post_id in read_to.items():
                when = at(self.post_times[post_id - 1])
                state = "muted" if self.rng.random() < 0.02 else "following"
                follows.append({"user_id": user, "thread_id": t + 1, "state": state, "created_at": when})  # fmt: skip
                reads.append({"user_id": user, "thread_id": t + 1, "last_read_post_id": post_id, "read_at": when})  # fmt: skip
        return follows, reads

    def space_reads_and_follows(self) -> tuple[list[dict], list[dict]]:
        """A member starts with everything before they joined read; a few follow whole spaces."""
        reads, follows = [], []
        for joined in self.people.joined:
            newest_then = bisect.bisect_right(self.post_times, joined.at)
            reads.append({"user_id": joined.user_id, "space_id": joined.space_id,
                          "read_up_to_post_id": newest_then, "read_at": at(joined.at)})  # fmt: skip
            reader_follows = joined.user_id == READER_ID and joined.space_id == self.space[0]
            if reader_follows or self.rng.random() < 0.05:
                follows.append({"user_id": joined.user_id, "space_id": joined.space_id,
                                "created_at": at(joined.at)})  # fmt: skip
        return reads, follows

    def notifications(self, for_reader: int) -> list[dict]:
        """``for_reader`` notifications for the reader (the newest 5% unread), and about one per
        five posts for everyone else (read, bar some from the last fortnight)."""
        rng, people = self.rng, self.people
        kinds = ["reply-in-thread", "reply-to-post", "mention", "new-thread", "post-helpful",
                 "post-solved"]  # fmt: skip
        by_space: dict[int, list[int]] = {}
        for t, space in enumerate(self.space):
            by_space.setdefault(space, []).append(t)
        reader_threads = [t for t in range(self.count) if self.space[t] in people.reader_spaces]
        others = [j for j in people.joined if j.user_id != READER_ID and j.space_id in by_space]
        planned = [(READER_ID, rng.choice(reader_threads)) for _ in range(for_reader)]
        for _ in range(self.total_posts // 5):
            joined = rng.choice(others)
            planned.append((joined.user_id, rng.choice(by_space[joined.space_id])))
        rows = []
        for user, t in planned:
            post_id, actor = rng.choice(self.thread_posts[t])
            rows.append({
                "user_id": user, "kind": rng.choices(kinds, [50, 20, 10, 10, 7, 3])[0],
                "actor_id": actor if actor != user else None, "space_id": self.space[t],
                "thread_id": t + 1, "post_id": post_id,
                "created_at": at(self.post_times[post_id - 1] + 60),
            })  # fmt: skip
        rows.sort(key=lambda row: row["created_at"])
        reader_rows = [row for row in rows if row["user_id"] == READER_ID]
        unread = {id(row) for row in reader_rows[-max(20, len(reader_rows) // 20) :]}
        for n, row in enumerate(rows, start=1):
            when = row["created_at"].timestamp()
            if row["user_id"] != READER_ID and people.now - when < 14 * DAY and rng.random() < 0.6:
                unread.add(id(row))
            done = id(row) not in unread
            row.update({"id": n, "read_at": at(when + 3 * 3600) if done else None,
                        "emailed_at": at(when + DAY) if done else None})  # fmt: skip
        return rows
