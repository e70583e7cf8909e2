"""Demo events: two past events with their chat, pinned links and Q&A (one with its record posted
to the forum), three upcoming ones across spaces, and one whose chat is open now, so a newcomer
can try the live chat at once in two browser windows.

Seeding again adds nothing, but keeps the demo current: the "open now" event is moved to have
started ten minutes ago whenever its chat is no longer open (its messages move with it), and an
upcoming event whose day has passed moves forward by whole weeks (same weekday, same London time).
Every person is fictional (see :mod:`peerlearn.demo`); links are to NHS England's public pages or
to ``example.org``.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.core.text import render_markdown
from peerlearn.demo import PEOPLE
from peerlearn.demo_discussions import _Clock
from peerlearn.discussions.models import ImpactComponent as C
from peerlearn.discussions.models import Post
from peerlearn.events import chat, transcripts
from peerlearn.events.models import (
    ChatMessage,
    Event,
    Question,
    QuestionStatus,
    QuestionVote,
    Rsvp,
    RsvpStatus,
)
from peerlearn.events.services import EventDraft, create_event, in_london, london_to_utc
from peerlearn.extensions import db
from peerlearn.spaces.models import Space

ANSWERED, OPEN, DISMISSED = QuestionStatus.answered, QuestionStatus.open, QuestionStatus.dismissed
SLIDES = "https://example.org/peerlearn-demo/qms-in-practice-slides.pdf"
IMPACT = "https://www.england.nhs.uk/nhsimpact/"
#: The open-now event started this long before the seed, and runs this long after it.
OPEN_NOW_STARTED = timedelta(minutes=10)
OPEN_NOW_LENGTH = timedelta(minutes=90)


@dataclass(frozen=True)
class DemoEvent:
    """One demo event, its answers and, for past and open events, its chat and Q&A."""

    space: str
    host: str
    title: str
    description: str
    #: Days from the seed day (negative: past); the event falls on the nearest such weekday before.
    days: int
    weekday: int  #: 0 Monday ... 6 Sunday
    start: time
    minutes: int
    components: tuple[C, ...]
    venue: str | None = None
    capacity: int | None = None
    going: tuple[str, ...] = ()
    interested: tuple[str, ...] = ()
    #: (minutes from the start, author, text, "pin" / "removed" / "")
    chat: tuple[tuple[float, str, str, str], ...] = ()
    #: (author, text, status, voters)
    questions: tuple[tuple[str, str, QuestionStatus, tuple[str, ...]], ...] = ()
    record: bool = False
    open_now: bool = False


QMS_PAST = DemoEvent(
    "qms", "kwame-mensah", "QMS in practice: learning from Lancashire and South Cumbria",
    "Aisha Khan (Lancashire Teaching Hospitals) and Rachel Moss (Lancashire and South Cumbria ICB) "
    "on building one quality management system across a system: what went into the board report, "
    "how the ICB and trusts agreed one set of measures, and what they would do differently.\n\n"
    "40 minutes of talk, then your questions.",
    -21, 3, time(14, 0), 90, (C.management_systems, C.shared_purpose),
    going=("aisha-khan", "rachel-moss", "fiona-mcleod", "lucy-chen", "eleanor-hughes", "priya-raman"),
    chat=(
        (-4, "kwame-mensah", "Good afternoon all, we'll start at 14:00. Say hello and where you're joining from while we wait.", ""),
        (-3, "lucy-chen", "Hello from Salford! Lucy, Northern Care Alliance.", ""),
        (-2, "fiona-mcleod", "Afternoon everyone, Fiona from East Kent.", ""),
        (-1, "eleanor-hughes", "Hi all, Eleanor from AQuA. Looking forward to this one.", ""),
        (1, "kwame-mensah", "Welcome everyone. Aisha and Rachel will talk for about 40 minutes, then it's over to you. Please put questions in the **Q&A** panel so we can vote them up.", ""),
        (3, "kwame-mensah", f"Today's slides: {SLIDES}", "pin"),
        (6, "rachel-moss", "For context: we're one ICB and four trusts, and we agreed a single QMS framework across the system last year.", ""),
        (9, "lucy-chen", "Really like the idea of one set of measures that the ICB and the trusts both look at.", ""),
        (12, "fiona-mcleod", "Is the maturity self-assessment on slide 7 the NHS IMPACT one or your own version?", ""),
        (13, "aisha-khan", "Fiona, it's the NHS IMPACT self-assessment, with two questions of our own added on quality planning.", ""),
        (14, "kwame-mensah", f"The NHS IMPACT self-assessment and guidance: {IMPACT}", "pin"),
        (16, "eleanor-hughes", "The point about dropping RAG ratings is so important. Every board we work with wants to keep them.", ""),
        (18, "priya-raman", "Great to see so many systems represented today: eleven organisations on the call.", ""),
        (21, "lucy-chen", "How long did it take before the board stopped asking for the old report?", ""),
        (22, "aisha-khan", "About two quarters. We ran both side by side for one quarter, which helped.", ""),
        (27, "fiona-mcleod", "We tried SPC for everything at first and drowned. Starting with the breakthrough measures is wise.", ""),
        (30, "eleanor-hughes", "Agree. Three or four charts the board actually discusses beat forty it scrolls past.", ""),
        (33, "rachel-moss", "From the ICB side, the biggest change was agreeing we'd look at the trusts' own charts rather than ask for our own.", ""),
        (36, "lucy-chen", "That's exactly where we want to get to in Greater Manchester.", ""),
        (39, "lucy-chen", "Does anyone have the dial-in for the 3pm ICB meeting?", "removed"),
        (44, "kwame-mensah", "Moving to questions now. Keep voting for the ones you want answered.", ""),
        (48, "aisha-khan", "On honesty in the self-assessment: each division scored itself first, then we compared with the executive view. The gap *was* the conversation.", ""),
        (55, "fiona-mcleod", "That's really helpful, thank you.", ""),
        (62, "rachel-moss", "On primary care: honestly, not yet. It's in our plan for next year.", ""),
        (70, "eleanor-hughes", "Would the group like a follow-up session on quality planning? Happy to run it.", ""),
        (72, "kwame-mensah", "Yes please, Eleanor! Let's find a date in the forum.", ""),
        (78, "lucy-chen", "Thank you both, a really practical session.", ""),
        (80, "fiona-mcleod", "Thanks all, lots to take back to East Kent.", ""),
        (85, "kwame-mensah", "Thank you Aisha and Rachel, and everyone for your questions. I'll post the record with the answered questions in the forum.", ""),
    ),
    questions=(
        ("fiona-mcleod", "How did you make the QMS maturity self-assessment honest without it becoming demoralising?", ANSWERED, ("lucy-chen", "eleanor-hughes", "priya-raman", "rachel-moss")),
        ("lucy-chen", "How long did the board take to trust the shorter report, and did you run the old one alongside it?", ANSWERED, ("fiona-mcleod", "eleanor-hughes", "kwame-mensah")),
        ("eleanor-hughes", "Which measures did you choose as the system-wide breakthrough measures?", ANSWERED, ("lucy-chen", "fiona-mcleod")),
        ("priya-raman", "Could the SIG share a template for the one-page QMS summary?", OPEN, ("fiona-mcleod", "lucy-chen")),
        ("lucy-chen", "Is primary care part of the system QMS yet?", ANSWERED, ("eleanor-hughes",)),
        ("fiona-mcleod", "Will this count towards CPD?", DISMISSED, ()),
    ),
    record=True,
)  # fmt: skip

FLOW_PAST = DemoEvent(
    "flow-coaching", "hannah-price", "Flow coaching clinic: making daily huddles stick",
    "A practical hour for flow coaches: what a good 15-minute huddle looks like, what goes on the "
    "board, and how to keep it going when the ward is under pressure. Bring your own examples.",
    -9, 2, time(12, 30), 60, (C.management_systems, C.leadership_behaviours),
    going=("tom-whitfield", "grace-okafor", "sanjay-patel"), interested=("priya-raman",),
    chat=(
        (-2, "hannah-price", "Hi everyone, grab a lunch and we'll start at half past.", ""),
        (0, "grace-okafor", "Hello from Morecambe Bay!", ""),
        (1, "tom-whitfield", "Afternoon all, Tom from Blackpool.", ""),
        (2, "sanjay-patel", "Hi, Sanjay from Leeds. Our huddles are running at 25 minutes so I'm here to learn.", ""),
        (4, "hannah-price", "Huddle board template we'll walk through: https://example.org/peerlearn-demo/huddle-board-template.pdf", "pin"),
        (8, "hannah-price", "Rule one: the huddle is about today's flow, not yesterday's problems. Yesterday goes on the improvement board.", ""),
        (11, "grace-okafor", "That's a useful split. Ours turn into a review of every delay from the day before.", ""),
        (14, "tom-whitfield", "We timebox each section with a visible timer. It felt silly at first but it works.", ""),
        (18, "sanjay-patel", "Do you stand up for the whole thing?", ""),
        (19, "hannah-price", "Always. Chairs add ten minutes.", ""),
        (23, "grace-okafor", "Who updates the board before the huddle? That's where ours falls down.", ""),
        (25, "tom-whitfield", "The nurse in charge, with the discharge coordinator, fifteen minutes before.", ""),
        (31, "hannah-price", "Now to your questions in the Q&A.", ""),
        (38, "sanjay-patel", "Criteria to reside on the board made a big difference for us too.", ""),
        (44, "grace-okafor", "Going to try the timer tomorrow.", ""),
        (52, "tom-whitfield", "Thanks Hannah, really useful.", ""),
        (55, "hannah-price", "Thank you all. The template stays pinned, and I'll share the huddle standard in the forum.", ""),
    ),
    questions=(
        ("grace-okafor", "How do you keep a huddle to 15 minutes when there's a lot going on?", ANSWERED, ("tom-whitfield", "sanjay-patel", "priya-raman")),
        ("sanjay-patel", "Which measures go on the huddle board: criteria to reside, discharges before noon, or both?", ANSWERED, ("grace-okafor", "tom-whitfield")),
        ("tom-whitfield", "Should the consultant lead the huddle or the nurse in charge?", OPEN, ("grace-okafor",)),
    ),
)  # fmt: skip

UPCOMING = (
    DemoEvent(
        "improvement-directors", "priya-raman",
        "Network call: embedding improvement in the ICB operating model",
        "Our monthly network call. Rachel Moss opens with ten minutes on how Lancashire and South "
        "Cumbria ICB is making improvement part of how it runs its business, then we discuss.",
        6, 1, time(10, 0), 60, (C.management_systems, C.shared_purpose),
        going=("rachel-moss", "aisha-khan", "sanjay-patel", "lucy-chen", "owen-davies"),
        interested=("tom-whitfield", "ben-carter"),
    ),
    DemoEvent(
        "measurement-for-improvement", "owen-davies", "SPC clinic: bring your chart",
        "Bring a statistical process control chart you are unsure about: we will look at a few "
        "together and talk through rules, baselines and annotations. Members only.",
        13, 3, time(12, 30), 60, (C.management_systems, C.capability_and_capacity),
        capacity=12, going=("ben-carter", "sanjay-patel"),
    ),
    DemoEvent(
        "impact-commons", "eleanor-hughes", "Introduction to NHS IMPACT for new improvement leads",
        f"An introduction to [NHS IMPACT]({IMPACT}) and its five components for people new to "
        "leading improvement, with time for questions. In person in Leeds, and online.",
        20, 2, time(10, 0), 120, tuple(C), venue="Quarry House, Quarry Hill, Leeds LS2 7UE",
        capacity=40, going=("aisha-khan", "rachel-moss"),
    ),
)  # fmt: skip

OPEN_NOW = DemoEvent(
    "qms", "kwame-mensah", "QMS drop-in: ask the SIG anything",
    "An informal drop-in: no slides, just bring your quality management system questions and we "
    "will work through them together. The chat is the main event, so say hello.",
    0, 0, time(0, 0), 90, (C.management_systems,),
    going=("aisha-khan", "rachel-moss", "fiona-mcleod", "lucy-chen", "eleanor-hughes"),
    chat=(
        (-6, "kwame-mensah", "Welcome to the drop-in! No slides today: ask your QMS questions and we'll work through them together.", ""),
        (-5, "kwame-mensah", "New here? Put questions in the **Q&A** panel and vote for the ones you want covered. Be kind, and never post anything that could identify a patient.", "pin"),
        (-2, "aisha-khan", "Hello all, Aisha from Lancashire Teaching Hospitals.", ""),
        (3, "rachel-moss", "Afternoon! Rachel from the ICB, mainly here to listen today.", ""),
        (6, "fiona-mcleod", "Hi everyone. I'd love to hear how others are setting up quality planning.", ""),
    ),
    questions=(
        ("fiona-mcleod", "How are others reporting QMS maturity to their boards?", OPEN, ("aisha-khan", "lucy-chen")),
        ("lucy-chen", "Any tips for getting divisions to own quality planning?", OPEN, ("fiona-mcleod",)),
    ),
    open_now=True,
)  # fmt: skip

EVENTS = (QMS_PAST, FLOW_PAST, *UPCOMING, OPEN_NOW)
DEMO_HANDLES = {person.handle for person in PEOPLE}


def seed_events() -> int:
    """Add whatever demo events are missing and keep the open and upcoming ones current;
    returns how many were added."""
    users = {u.handle: u for u in db.session.scalars(select(User).where(User.handle.in_(DEMO_HANDLES)))}  # fmt: skip
    spaces = {s.slug: s for s in db.session.scalars(select(Space))}
    now, added = utcnow(), 0
    for demo in EVENTS:
        space = spaces.get(demo.space)
        if space is None:
            continue
        event = db.session.scalar(
            select(Event).where(Event.space_id == space.id, Event.title == demo.title)
        )
        if event is None:
            _seed_event(demo, space, users, now)
            added += 1
        elif demo.open_now:
            _keep_open(event, now)
        elif demo.days > 0:
            _keep_upcoming(event, now)
    db.session.commit()
    return added


def open_now_event() -> Event | None:
    """The demo event whose chat is open now (to point newcomers at)."""
    return db.session.scalar(
        select(Event).join(Space).where(Space.slug == OPEN_NOW.space, Event.title == OPEN_NOW.title)
    )


def _starts(demo: DemoEvent, now: datetime) -> datetime:
    if demo.open_now:
        return (now - OPEN_NOW_STARTED).replace(second=0, microsecond=0)
    day: date = in_london(now).date() + timedelta(days=demo.days)
    if demo.days < 0:  # the weekday on or before that day; for upcoming ones, on or after it
        day -= timedelta(days=(day.weekday() - demo.weekday) % 7)
    else:
        day += timedelta(days=(demo.weekday - day.weekday()) % 7)
    return london_to_utc(day, demo.start, "start_time")


def _seed_event(demo: DemoEvent, space: Space, users: dict[str, User], now: datetime) -> None:
    starts = _starts(demo, now)
    draft = EventDraft(
        title=demo.title,
        description=demo.description,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=demo.minutes),
        joining_url=f"https://meet.example.org/peerlearn-{space.slug}",
        venue=demo.venue,
        capacity=demo.capacity,
        components=demo.components,
    )
    event = create_event(users[demo.host], space, draft)
    event.created_at = event.updated_at = min(now, starts - timedelta(days=14))
    for handles, status in ((demo.going, RsvpStatus.going), (demo.interested, RsvpStatus.interested)):  # fmt: skip
        db.session.add_all(
            Rsvp(event_id=event.id, user_id=users[h].id, status=status, created_at=event.created_at)
            for h in handles
        )
    for n, (minutes, handle, text, mark) in enumerate(demo.chat):
        at = starts + timedelta(minutes=minutes)
        author = users[handle]
        db.session.add(
            ChatMessage(
                event_id=event.id,
                author_id=author.id,
                client_id=f"demo-{event.uid[:8]}-{n}",
                body_source=text,
                body_html=render_markdown(text),
                created_at=at,
                pinned_at=at + timedelta(seconds=20) if mark == "pin" else None,
                pinned_by_id=users[demo.host].id if mark == "pin" else None,
                deleted_at=at + timedelta(minutes=1) if mark == "removed" else None,
                deleted_by_id=author.id if mark == "removed" else None,
            )
        )
    _seed_questions(demo, event, users, starts)
    db.session.commit()
    if demo.record:
        _post_record(event, users[demo.host], now)


def _seed_questions(
    demo: DemoEvent, event: Event, users: dict[str, User], starts: datetime
) -> None:
    for n, (handle, text, status, voters) in enumerate(demo.questions):
        asked = starts + timedelta(minutes=5 + 4 * n if not demo.open_now else -3 + 2 * n)
        question = Question(
            event_id=event.id,
            author_id=users[handle].id,
            client_id=f"demo-{event.uid[:8]}-q{n}",
            body_source=text,
            body_html=render_markdown(text),
            created_at=asked,
            status=status,
            status_changed_at=None if status is OPEN else starts + timedelta(minutes=50 + 3 * n),
            status_changed_by_id=None if status is OPEN else users[demo.host].id,
            vote_count=len(voters),
        )
        db.session.add(question)
        db.session.flush()
        db.session.add_all(
            QuestionVote(question_id=question.id, user_id=users[v].id, created_at=asked)
            for v in voters
        )


def _post_record(event: Event, host: User, now: datetime) -> None:
    """Post the record through the real service, then date it to the afternoon of the event."""
    clock, when = _Clock(now), min(now, event.ends_at + timedelta(hours=2))
    thread, _ = transcripts.post_record(host, event)
    thread.created_at = thread.last_activity_at = when
    for post in db.session.scalars(select(Post).where(Post.thread_id == thread.id)):
        post.created_at = when
    clock.stamp(when)
    db.session.commit()


def _shift(event: Event, starts: datetime, now: datetime) -> None:
    """Move an event (and its chat and Q&A, never past now) to start at ``starts``."""
    delta = starts - event.starts_at
    event.starts_at, event.ends_at = starts, event.ends_at + delta
    event.sequence += 1  # calendars that hold it update the time
    rows: list[ChatMessage | Question] = [
        *db.session.scalars(select(ChatMessage).where(ChatMessage.event_id == event.id)),
        *db.session.scalars(select(Question).where(Question.event_id == event.id)),
    ]
    for row in rows:
        for name in ("created_at", "pinned_at", "deleted_at", "status_changed_at"):
            value = getattr(row, name, None)
            if value is not None:
                setattr(row, name, min(value + delta, now))


def _keep_open(event: Event, now: datetime) -> None:
    """A later seed (each ``./manage serve``) finds the drop-in over: it starts again, now."""
    if chat.is_open(event):
        return
    event.cancelled_at = event.chat_closed_at = None
    _shift(event, (now - OPEN_NOW_STARTED).replace(second=0, microsecond=0), now)


def _keep_upcoming(event: Event, now: datetime) -> None:
    """An upcoming event whose day has passed moves on by whole weeks, at the same London time."""
    if event.ends_at >= now or event.cancelled or _has_chat(event):
        return
    local = in_london(event.starts_at)
    weeks = (now - event.starts_at).days // 7 + 1
    _shift(event, london_to_utc(local.date() + timedelta(weeks=weeks), local.time(), "start_time"), now)  # fmt: skip


def _has_chat(event: Event) -> bool:
    return bool(db.session.scalar(select(func.count()).where(ChatMessage.event_id == event.id)))
