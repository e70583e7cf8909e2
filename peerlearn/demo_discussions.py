"""Demo discussions: about 25 threads and a few hundred posts across the demo spaces.

The opening posts are hand-written. Replies are put together from pools of fragments by
``random.Random(2026)``, so the same plan comes out every time, and everything is posted through
the discussion services: counters, reply paths, mentions, follows and notifications are what real
use would leave. Timestamps (posts, marks, notifications) are then spread over the last six weeks.
Every person is fictional (see :mod:`peerlearn.demo`); nothing refers to a patient.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.demo import PEOPLE, SPACES
from peerlearn.discussions.marks import set_helpful, set_solution
from peerlearn.discussions.models import HelpfulMark, ImpactComponent, Post, Thread, ThreadKind
from peerlearn.discussions.services import ThreadDraft, edit_post, reply, start_thread
from peerlearn.extensions import db
from peerlearn.moderation.services import set_thread_flag
from peerlearn.notifications.models import Notification
from peerlearn.spaces.models import Space

C = ImpactComponent
#: The network manager welcomes and connects; she does not write the practitioners' replies.
HOST = "priya-raman"


@dataclass(frozen=True)
class Opener:
    """A hand-written opening post and how its thread unfolds."""

    space: str
    author: str
    ago: float  #: days ago the thread started
    title: str
    body: str
    theme: str  #: the fragment pool replies draw on first...
    also: str  #: ...and second
    components: tuple[ImpactComponent, ...]
    tags: tuple[str, ...] = ()
    question: bool = False
    replies: int = 10
    #: A hand-written answer (handle, text): posted third; the asker thanks its author next.
    answer: tuple[str, str] | None = None
    solved: bool = False
    #: Appended by the asker to the opening post once the thread has helped.
    update: str | None = None
    pinned: bool = False


OPENERS = [
    Opener("improvement-directors", "priya-raman", 42, "Welcome: introduce yourself and where you are on your improvement journey", "Welcome to the Improvement Directors Network. This is a space for the people leading improvement in NHS organisations and systems to learn from each other as we put **NHS IMPACT** into practice.\n\nPlease say hello: who you are, where you work, and one thing you're working on or stuck on at the moment. I'll start: I manage this network for NHS England and my current focus is connecting people who are solving the same problems in different places.", "intro", "culture", (C.shared_purpose, C.people_and_culture), ("introductions",), replies=16, pinned=True),
    Opener("improvement-directors", "rachel-moss", 37, "How is your ICB embedding improvement into its management system?", "We're about a year into trying to make improvement part of how our ICB runs its business rather than a programme that sits alongside it. Progress is real but patchy: the system quality group uses the same problem-solving steps as our trusts, finance and planning don't yet.\n\nI'd love to hear from other ICBs and from trusts who have seen their ICB do this well. @aisha-khan, @[Kwame Mensah], I know you've both thought about this from the provider side.", "system", "qms", (C.management_systems, C.shared_purpose), ("icb", "operating model"), replies=14),
    Opener("improvement-directors", "lucy-chen", 33, "Leadership walkrounds that are more than a tick-box", "Our executive walkrounds have drifted into something staff tolerate rather than value: a visit, a few questions, a report nobody reads. I'd like to relaunch them this spring.\n\nWhat makes walkrounds work in your organisation? Particularly interested in how you close the loop with staff on what they raised.", "leadership", "culture", (C.leadership_behaviours,), ("walkrounds", "gemba"), replies=12),
    Opener("improvement-directors", "sanjay-patel", 30, "Bronze, silver, gold: how many people do you actually need trained?", "Our board has asked a fair question: what proportion of staff need each level of improvement training before we see a difference, and how would we know?\n\nDoes anyone have a dosing model they've used and stood behind? Numbers and reasoning both welcome.", "capability", "culture", (C.capability_and_capacity,), ("qi training", "dosing"), question=True, replies=13, answer=("eleanor-hughes", "There's no magic number, but there is a rule of thumb we use with organisations. Roughly:\n\n- **Bronze (awareness):** everyone, ideally at induction, so improvement is \"how we work here\".\n- **Silver (practitioner):** about 1 in 10 staff over three years, each with a live project tied to a priority.\n- **Gold (coach/expert):** enough to coach every silver project, roughly 1 coach for 8 to 10 active projects.\n\nThe test of whether the dose is right isn't training numbers: track how many projects reach a sustained change on an SPC chart, and your staff survey score for \"I am able to make improvements happen in my area\". If those don't move, more training won't fix it."), solved=True),
    Opener("improvement-directors", "fiona-mcleod", 27, "Linking PSIRF learning responses to our improvement programme", "Since moving to the Patient Safety Incident Response Framework we're producing far better learning responses, but I'm not convinced the learning reliably turns into improvement. Safety actions still look a lot like \"remind staff\".\n\nHow have others connected PSIRF to their improvement team and programme without swamping either?", "psirf", "spc", (C.management_systems, C.people_and_culture), ("psirf", "patient safety"), replies=12),
    Opener("improvement-directors", "aisha-khan", 23, "Getting the executive team to own the improvement strategy", "A slightly uncomfortable reflection: in our trust the improvement strategy is still seen as \"the improvement team's strategy\". Executives are supportive, but they sponsor rather than own.\n\nFor those further on: what changed the ownership in your organisation? Was it a moment, a process, or a person?", "leadership", "system", (C.leadership_behaviours, C.shared_purpose), ("board", "strategy"), replies=11),
    Opener("improvement-directors", "grace-okafor", 18, "NHS IMPACT self-assessment: how often do you rerun it?", "We completed the NHS IMPACT self-assessment last year and it gave us a useful baseline. Our plan said \"repeat annually\" but I'm wondering whether that's right, and whether to widen who takes part.\n\nHow often do you rerun it, and who is in the room?", "commons", "qms", (C.shared_purpose, C.management_systems), ("self-assessment",), question=True, replies=9),
    Opener("improvement-directors", "tom-whitfield", 12, "Celebrating small wins: how do you share improvement stories?", "Teams across our trust are doing lovely small tests of change that nobody outside the ward ever hears about. I'd like a simple, sustainable way of sharing them that isn't another newsletter.\n\nWhat works for you?", "culture", "leadership", (C.people_and_culture,), ("communications", "recognition"), replies=10),
    Opener("improvement-directors", "ben-carter", 0.3, "Anyone using SPC for community waiting lists?", "Our community services want to put their waiting lists on SPC charts for the first time. Has anyone done this for waiting list size and weeks waited? Any pitfalls with the operational definitions?", "spc", "spc", (C.management_systems,), ("spc", "community services"), question=True, replies=0),
    Opener("qms", "kwame-mensah", 40, "What goes in a board QMS assurance report?", "We're rebuilding our quarterly quality management system report to the board's quality committee. The current version is 40 pages of RAG-rated tables and the committee says it gives them information but not assurance.\n\nWhat do you include, in what order, and how long is it? Examples very welcome.", "qms", "spc", (C.management_systems,), ("board assurance", "reporting"), question=True, replies=15, answer=("aisha-khan", "Ours went from 38 pages to 9, and the committee is much happier. The structure is:\n\n1. **One page on the QMS itself:** where we are against our maturity self-assessment and what we're working on next.\n2. **Quality control:** SPC charts for the agreed breakthrough and strategic measures, each with the making data count variation and assurance icons and two lines of narrative.\n3. **Quality assurance:** what the committee can rely on and why: audits, learning responses, external reviews.\n4. **Quality improvement:** the three or four improvement programmes in flight, with their measures.\n\nWe dropped RAG ratings entirely. The key rule: every chart that shows special cause has a sentence saying what we know about why."), solved=True, update="**Update:** thank you all. We took the structure in @[Aisha Khan]'s answer to our committee this month and it landed well."),
    Opener("qms", "fiona-mcleod", 35, "QMS maturity self-assessment: scoring ourselves honestly", "We've just finished our first QMS maturity self-assessment. The executive team scored us at \"developing\" or above on almost everything; the two divisional teams we tested it with scored us a level lower across the board.\n\nHow have others made the self-assessment honest without it becoming demoralising?", "qms", "culture", (C.management_systems, C.people_and_culture), ("maturity", "self-assessment"), replies=12),
    Opener("qms", "lucy-chen", 26, "Quality planning vs quality control: where do your divisions get stuck?", "Using the Juran trilogy as our frame, our divisions are reasonably good at quality control and increasingly good at improvement, but quality planning (designing services to meet needs from the start) barely happens.\n\nHas anyone found a way of making quality planning a routine part of divisional business?", "qms", "capability", (C.management_systems, C.capability_and_capacity), ("quality planning",), replies=10),
    Opener("qms", "rachel-moss", 21, "Aligning trust QMS reporting with ICB quality oversight", "From the ICB side we're keen not to create a parallel reporting burden. If your trust has a QMS, we'd rather look at the same charts you use internally than ask for our own.\n\nTrust colleagues: would that work for you, and what would you want from us in return? @kwame-mensah, interested in your view as the group's moderator.", "system", "qms", (C.management_systems, C.shared_purpose), ("icb", "oversight"), replies=10),
    Opener("qms", "aisha-khan", 14, "Template for a divisional quality and performance review?", "Does anyone have a template for divisional quality and performance reviews that puts improvement at the centre rather than the end of the agenda? We're redesigning ours for the next financial year.", "qms", "leadership", (C.management_systems,), ("performance review", "templates"), question=True, replies=9),
    Opener("qms", "kwame-mensah", 6, "Notes from this month's QMS SIG call", "Thanks to everyone who joined Thursday's call. Main points:\n\n- Most of us are still separating assurance and improvement in board reporting.\n- Several trusts are rerunning the maturity self-assessment with frontline teams.\n- Next month: @[Fiona McLeod] will talk us through how East Kent linked PSIRF to their QMS.\n\nAdd anything I've missed below.", "qms", "psirf", (C.management_systems,), ("sig call",), replies=6),
    Opener("flow-coaching", "hannah-price", 39, "Daily flow huddles: what does a good 15 minutes look like?", "We're spreading daily flow huddles from four wards to the whole medical division. Before we do, I'd like to agree what \"good\" looks like so coaches are consistent.\n\nWhat's on your huddle board, who leads it, and how do you keep it to 15 minutes?", "flow", "leadership", (C.management_systems, C.leadership_behaviours), ("huddles", "visual management"), replies=14),
    Opener("flow-coaching", "tom-whitfield", 31, "Our first kaizen event on discharge: lessons learned", "We ran our first five-day kaizen event on the discharge process last month. Some things went really well (the team redesigned the medicines-to-take-home process and halved the wait) and some didn't (we lost momentum in week two after).\n\nSharing our lessons below; would love to hear yours.", "flow", "capability", (C.capability_and_capacity, C.people_and_culture), ("kaizen", "discharge"), replies=12),
    Opener("flow-coaching", "grace-okafor", 24, "How do you coach a team that says it has no time to improve?", "I'm coaching a ward team that is genuinely stretched. Every conversation about improvement ends with \"we don't have time\". They're not wrong, but the problems they're firefighting are the ones improvement would fix.\n\nHow have other coaches broken that cycle?", "flow", "culture", (C.people_and_culture, C.leadership_behaviours), ("coaching",), question=True, replies=11, answer=("hannah-price", "We've all been there. What's worked for me:\n\n- **Start with their biggest irritation, not your agenda.** Ask what wasted their time this week and test one change against it.\n- **Make the first test tiny:** one shift, one bay, one change. Ten minutes, not a project.\n- **Give time back visibly.** When the first test saves time, say so at the huddle and let the team decide what to do with it.\n- **Get the ward manager to protect 15 minutes a week**, the same slot, for the team to review their run chart.\n\nOnce they see one problem go away, the conversation changes from \"no time\" to \"what next\"."), solved=True),
    Opener("flow-coaching", "sanjay-patel", 16, "Measuring flow: criteria to reside, length of stay or time of discharge?", "We're choosing the headline measure for our flow programme. Length of stay is what the board watches, criteria to reside is what the system talks about, and time of discharge is what the wards feel.\n\nWhich have others used as the main measure, and what did you use as balancing measures?", "flow", "spc", (C.management_systems,), ("measurement", "discharge"), replies=10),
    Opener("flow-coaching", "hannah-price", 8, "Flow coaching cohort 3: what we would change", "Cohort 3 of our flow coaching programme finished last week. The coaching skills landed well, but several coaches said they went back to teams with no protected time to coach.\n\n@tom-whitfield, @[Grace Okafor], you both ran similar programmes. What did you change between cohorts?", "capability", "flow", (C.capability_and_capacity,), ("coaching programme",), replies=8),
    Opener("measurement-for-improvement", "ben-carter", 34, "Run chart or SPC chart for a monthly measure with 12 points?", "A division wants to put a monthly measure with only 12 data points into their board report on an SPC chart. I think a run chart is more honest at this stage, but they like the look of the limits.\n\nWhat would you advise, and when would you switch?", "spc", "spc", (C.capability_and_capacity, C.management_systems), ("spc", "run charts"), question=True, replies=10, answer=("owen-davies", "Run chart now, SPC later. With 12 points the limits are still settling and a couple more months can move them a lot, so any \"special cause\" signal is fragile.\n\n- Use a run chart with the median and the run rules (shift, trend, too few or too many runs, astronomical point).\n- Switch to an XmR chart at around 15 to 20 points, and **fix the limits** once you have a stable baseline rather than letting them drift.\n- Annotate both with the changes tested.\n\nIf they really want limits now, show them as provisional with a dashed line and say so in the narrative."), solved=True),
    Opener("measurement-for-improvement", "owen-davies", 20, "Making data count in board papers: when to rebase the limits", "We've introduced making data count charts across our integrated performance report. The recurring argument now is about when to recalculate limits after a process change. Divisions want to rebase as soon as things improve; I want evidence of a sustained shift first.\n\nWhat rules have you agreed locally?", "spc", "qms", (C.management_systems,), ("making data count", "spc"), replies=11),
    Opener("measurement-for-improvement", "sanjay-patel", 9, "Measurement plan for a falls collaborative: feedback please", "Draft measurement plan for our falls collaborative (no patient-level data, just the plan):\n\n- **Outcome:** inpatient falls per 1,000 occupied bed days (u-chart).\n- **Process:** % of patients with a completed falls risk assessment within 24 hours; % of lying and standing blood pressures done.\n- **Balancing:** use of enhanced observation hours.\n\nWhat am I missing? @owen-davies, @[Ben Carter] keen to hear your views.", "spc", "psirf", (C.capability_and_capacity,), ("measurement plan", "falls"), replies=9),
    Opener("impact-commons", "eleanor-hughes", 29, "What is NHS IMPACT, in plain English?", "People new to improvement often ask what NHS IMPACT actually is. Here's my short version; please improve it.\n\n**NHS IMPACT (Improving Patient Care Together)** is the NHS's single, shared improvement approach. It isn't a method: it describes five components an organisation needs to improve continuously, whatever method it uses.", "commons", "commons", (C.shared_purpose,), ("introduction",), replies=7, pinned=True),
    Opener("impact-commons", "aisha-khan", 11, "Using the five components to plan our first year", "We're a trust at the start of our NHS IMPACT journey. We've done the self-assessment and have far more gaps than we can close in a year.\n\nHow did others choose where to start?", "commons", "capability", (C.shared_purpose, C.capability_and_capacity), ("getting started",), question=True, replies=5),
]  # fmt: skip

FRAGMENTS = {
    "qms": [
        "At {org} the board QMS report is now one page per domain: an SPC chart, a one-line \"so what\" and the improvement work in flight. The committee stopped asking for RAG ratings within three months.",
        "We separate the report into control (are we stable and capable?), assurance (how do we know?) and improvement (what are we changing?). It sounds obvious, but it changed the conversation at the quality committee.",
        "The biggest difference for us was agreeing a small set of breakthrough objectives and tying every divisional driver metric to one of them.",
        "Our first QMS maturity self-assessment scored us far too generously. We reran it with frontline teams in the room and dropped a whole level on quality control.",
        "We use Juran's trilogy as the frame: quality planning, quality control and quality improvement. Most of our divisions were strong on control and had never really done planning.",
        "Be careful the QMS doesn't become a documentation exercise. Our auditors loved the policy; the wards had never heard of it.",
        "We run a quarterly \"QMS in practice\" session where one service walks the committee through a real example end to end. It does more for assurance than any dashboard.",
        "We mapped every meeting that touches quality and found three committees looking at the same falls data on different charts. Consolidating them freed up hours each month.",
        "Our quality and performance reviews now open with the charts showing special cause and only then go to exceptions. The papers are half the length.",
        "Quality control is where we struggled most: standard work existed, but nobody checked it was followed until something went wrong.",
    ],
    "spc": [
        "With 12 monthly points I'd start with a run chart and the run rules, then move to SPC at 20 or so points. Limits on 12 points will move a lot as data arrives.",
        "Don't rebase limits just because the process looks different. Rebase when you have evidence of a sustained shift and a known reason for it.",
        "We annotate every chart with the changes tested and when. Without annotations the board sees a shift and has no idea what caused it.",
        "The making data count icons have helped enormously with non-specialist audiences. The variation and assurance icons say in two seconds what used to take a paragraph.",
        "Watch the difference between a target and the process limits. If the target sits inside the limits the process will hit and miss by chance, and no amount of exhortation will fix that.",
        "For rare events we switched to a t-chart of time between events. The monthly count chart was just a line of zeros and ones.",
        "Every project charter at {org} now includes a measurement plan: operational definition, data source, who collects it, how often, and how it will be displayed. It saves arguments later.",
        "Balancing measures are the ones people forget. When we pushed earlier discharge we tracked readmissions alongside, and it was the first thing the medical director asked about.",
        "An XmR chart is a good default when you're unsure which chart to use; it's robust enough for most monthly measures in board papers.",
        "Run charts are underrated. For a ward testing changes weekly, a run chart on the wall does more than an SPC chart in a report they never see.",
    ],
    "flow": [
        "Our huddles are 15 minutes, standing, at the board, same time every day: yesterday's discharges against plan, today's expected discharges, and the three things blocking flow. Anything longer is taken offline.",
        "Coaching the team rather than fixing the problem for them was hard for our managers at first. They're used to being the person who solves it.",
        "We started measuring time of discharge rather than number of discharges, and moved the median from mid-afternoon to before 1pm on two wards within eight weeks.",
        "Criteria to reside data is useful but noisy. We use it in the huddle to prompt the conversation, not as a performance measure.",
        "Our kaizen event only worked because porters and pharmacy were in the room for all five days. The first attempt without them fizzled.",
        "Visual management is half the battle: a simple board showing the expected discharge date against every bed made delays visible in a way the system never did.",
        "We coach the huddle lead for the first four weeks, then step back and observe once a fortnight. The teams that sustain it are the ones where the ward manager owns it.",
        "Red and green days, applied consistently, gave therapies, nursing and the medical teams a shared language.",
        "We keep a \"parking lot\" on the huddle board for problems the team can't fix locally. The site team reviews it every afternoon and writes back.",
        "The biggest lesson from our kaizen event: put as much effort into the 30, 60 and 90 day follow-up as into the week itself.",
    ],
    "capability": [
        "We use a dosing model: bronze for everyone at induction, silver with a live project for a smaller group, and a handful of coaches at gold.",
        "Training numbers are a poor measure on their own. At {org} we track how many silver projects reach a sustained change, not how many people finish the course.",
        "The silver programme only took off when every project was linked to a divisional priority. Before that we had lots of lovely projects nobody had asked for.",
        "We moved bronze to a 90-minute online module followed by a team session. Completion went up, and the team session is where the learning sticks.",
        "Protected time is make or break. Our chief operating officer agreed that silver participants get half a day a fortnight for the length of the programme.",
        "Coaching capacity runs out before training capacity does. Think about who will coach the projects after the course before you scale up.",
        "Our improvement faculty includes clinicians, administrative staff and a patient partner. Having lived experience in the room changes which projects get picked.",
        "Every silver cohort presents at a showcase with their executive sponsor present. The sponsors have started competing to bring the best project.",
        "We map capability against the NHS IMPACT self-assessment, so the training plan follows the gaps rather than habit.",
    ],
    "leadership": [
        "The walkrounds that work for us have a single question, \"what got in the way of good care today?\", and a promise to come back within two weeks with what happened.",
        "Each of our executives adopted a service for a year and joins its improvement huddle once a month. It's a small commitment and staff notice when they keep it up.",
        "Leader standard work sounded very \"manufacturing\" to our board, but once we framed it as how we spend our time on what matters, they came round.",
        "The biggest shift was our chief executive asking \"how can I help?\" at the end of every review instead of \"why is this red?\".",
        "Walkrounds lose credibility quickly if issues disappear into a black hole. We log every one, give it an owner and publish \"you said, we did\" on the intranet.",
        "When our medical director started sharing her own PDSA cycles at the senior leadership meeting, it gave everyone permission to show unfinished work.",
        "We trained our non-executive directors to read SPC charts. The quality of questions at board changed almost overnight.",
        "It helps to be explicit that the improvement team supports the strategy but doesn't own it. At {org} our objectives sit with executive owners and we coach them.",
        "We hold a leadership behaviours session with the executive team every six months, looking honestly at what we did against the NHS IMPACT leadership component.",
    ],
    "system": [
        "We've tried to make the improvement approach the way the system runs its business: the same problem-solving steps in the system quality group as in a practice.",
        "We agreed one system-level breakthrough objective with our provider collaborative and let each organisation pick its own driver metrics underneath it.",
        "Our operating model review put improvement inside the planning cycle rather than beside it. Improvement priorities are now part of the annual plan, not a separate document.",
        "The ICB role we've settled on is convenor and connector: sharing learning between trusts, funding a shared faculty, and not duplicating what providers already do.",
        "Primary care needs a different offer. Practices don't have improvement teams, so we offer short coaching blocks tied to the access recovery work.",
        "We use tiered huddles from ward to system: anything that can't be resolved at one tier goes to the next within 24 hours.",
        "We aligned our quality oversight meetings with the trusts' QMS reporting cycle, so everyone looks at the same charts at the same time.",
        "Management systems only stick when finance and workforce processes speak the same language. We started with the annual planning round.",
        "We use the NHS IMPACT self-assessment as a system conversation rather than a score: each partner completes it and we compare where we see things differently.",
    ],
    "psirf": [
        "Our learning responses now finish with a conversation with the improvement team about whether a QI project is the right next step. Not every safety action needs one.",
        "We map themes across after action reviews and SWARM huddles every quarter, and the improvement programme picks up the two or three themes that keep recurring.",
        "The patient safety incident response plan is the bridge: it names the priorities we'll improve and the ones we'll monitor.",
        "Safety actions were our weak point: far too many said \"remind staff\". The improvement team now helps write actions that change the system.",
        "Our patient safety partners sit on the improvement steering group too, which keeps the link between learning responses and improvement work honest.",
        "We put the PSIRF themes on SPC charts, so the safety committee can see whether the improvement work is changing anything.",
        "Joint training helped: our learning response leads now do the silver QI programme, and our QI coaches do systems-based learning training.",
        "Be wary of turning every learning response into a project. We saw teams swamped; the plan lets us say no with a good reason.",
    ],
    "culture": [
        "We run a monthly improvement story slot at the all-staff briefing, always told by the frontline team rather than a manager.",
        "A simple thank-you card from an executive for a completed PDSA cycle does more than a formal award. People pin them up in the staff room.",
        "We made a point of sharing the tests of change that didn't work. It has made people much braver about trying things.",
        "Our staff survey score for \"I am able to make improvements happen in my area\" is now a measure in the improvement strategy, tracked quarterly.",
        "A different team writes our \"what we learned this month\" blog each time; colleagues' comments are the best part.",
        "Psychological safety shows up in huddles first. If nobody raises a problem for a week, that's a sign to look at, not a success.",
        "Newcomers to our improvement network get a buddy from another division for their first project. It has spread ideas faster than anything else we tried.",
    ],
    "commons": [
        "NHS IMPACT describes what needs to be in place for continuous improvement, rather than a method to follow.",
        "The five components are building a shared purpose and vision, investing in people and culture, developing leadership behaviours, building improvement capability and capacity, and embedding improvement into management systems and processes.",
        "It doesn't replace the method you already use. Whether your organisation uses a lean-based approach or the Model for Improvement, NHS IMPACT describes the conditions around it.",
        "The self-assessment is the practical starting point. We found it most useful as a conversation with the executive team rather than a questionnaire.",
        "For our first year we led on one component (shared purpose) and made sure each of the others had at least one concrete action.",
        "Don't start with training. Start with what the organisation is trying to achieve and let capability follow.",
        "We rerun the self-assessment every year with a wider group, including people from the front line and a patient partner.",
    ],
}  # fmt: skip
#: What a member says when introducing themselves in the welcome thread.
INTROS = {
    "aisha-khan": "We're building our QMS at the moment, so expect lots of questions from me in the QMS group.",
    "rachel-moss": "I'm working on how our ICB can support improvement across the system without duplicating what providers already do.",
    "tom-whitfield": "We ran our first kaizen event this year and I'm keen to share what we learned, warts and all.",
    "grace-okafor": "I lead a small team and spend most of my time coaching; keen to connect with other coaches.",
    "sanjay-patel": "We're about two years into our improvement journey and focused on building a management system that sticks.",
    "hannah-price": "I coach teams on flow and discharge, and I'm always looking for ideas on making huddles work.",
    "owen-davies": "Analyst by background: always happy to look at a chart with anyone.",
    "fiona-mcleod": "My background is nursing, so I'm especially interested in how improvement and patient safety fit together under PSIRF.",
    "kwame-mensah": "My current focus is getting our board comfortable with SPC and the making data count approach.",
    "eleanor-hughes": "I support organisations across the North West to build improvement capability, so I'm happy to help connect people.",
    "ben-carter": "I look after our improvement analytics and I'm keen to learn how others present SPC to their boards.",
    "lucy-chen": "We've just completed our NHS IMPACT self-assessment and I'd love to compare notes with anyone at a similar stage.",
}  # fmt: skip
OPENINGS = ["", "", "", "This really resonates.", "{them}, we had exactly the same debate.", "Adding to that from our side.", "A slightly different perspective from us.", "We went through this last year."]  # fmt: skip
CLOSINGS = ["", "", "", "Happy to share our version if it helps.", "Happy to have a call if anyone wants to compare notes.", "Still early days, so treat this as work in progress.", "Would be interested to hear whether others have found the same."]  # fmt: skip
SHORT = [
    "Thanks {them}, this is really useful. Would you be willing to share the template?",
    "+1 to this. We found exactly the same.",
    "That's a really helpful way of putting it, {them}.",
    "Really interesting. Could we pick this up at the next network call?",
    "Saving this thread: we're about to go through the same thing.",
    "Agree with all of that. The hard part is keeping it going after the first three months.",
    "Same experience here, {them}. It took us two attempts.",
    "Thank you, I've shared this with our improvement team.",
]  # fmt: skip
WELCOMES = ["Welcome, {them}! Great to have you here.", "Hello {them}, lovely to see you here. Let's catch up on this at the next network call.", "Welcome {them}. I'd be really interested to hear more about that."]  # fmt: skip
FOLLOW_UPS = [
    "Thank you {them}, that's exactly the practical detail I was after.",
    "This is really helpful. Can I ask how long it took before you saw a difference?",
    "Thanks {them}. Did you get any push-back from the divisions when you changed it?",
    "That's a great idea. We're going to test it on one ward first and I'll report back.",
    "Thanks {them}. I'll pull the main points together into a summary once the thread settles.",
]  # fmt: skip
MENTIONS = ["{m}, didn't you do something similar at {morg}?", "Adding {m}, who has thought about this more than I have.", "I think {m} presented on exactly this at the last network meeting.", "{m}, would you be willing to share what you did?"]  # fmt: skip
THANKS = "Thank you {them}, this is exactly what I needed. Marking it as the answer."

PERSON = {person.handle: person for person in PEOPLE}


def _org(handle: str) -> str:
    """How a member's organisation is referred to in conversation."""
    org = PERSON[handle].organisation
    if "(" in org:
        return org[org.index("(") + 1 : org.index(")")]
    org = org.replace(" NHS Foundation Trust", "").replace(" NHS Trust", "")
    if org.endswith("Integrated Care Board"):  # NHS Lancashire and ... ICB
        return org.removeprefix("NHS ").replace("Integrated Care Board", "ICB")
    return org


def _first(handle: str) -> str:
    return PERSON[handle].name.split()[0]


def roster(slug: str) -> list[str]:
    """The demo members of a space, owner first."""
    space = next(demo for demo in SPACES if demo.slug == slug)
    return [space.owner, *space.moderators, *space.members]


@dataclass
class PlannedPost:
    """A reply to be posted: by whom, to what, when, and who will find it helpful."""

    author: str
    body: str
    parent: int | None = None  #: index of the replied-to post; None for a reply to the thread
    depth: int = 0
    hours: float = 0.0  #: after the thread started
    helpful: list[tuple[str, float]] = field(default_factory=list)  #: (handle, hours)
    quote: str = ""  #: a sentence others may quote


@dataclass
class PlannedThread:
    """An opening post, its replies in posting order, and which reply answers it."""

    opener: Opener
    replies: list[PlannedPost]
    solution: int | None = None


def plan() -> list[PlannedThread]:
    """The whole demo conversation, the same every time."""
    rng = random.Random(2026)  # noqa: S311 - demo content, not security
    return [_plan_thread(rng, opener) for opener in OPENERS]


def _plan_thread(rng: random.Random, op: Opener) -> PlannedThread:
    members = roster(op.space)
    repliers = [h for h in members if h not in {HOST, op.author}]
    pool = FRAGMENTS.get(op.theme, []) + (FRAGMENTS[op.also] if op.also != op.theme else [])
    rng.shuffle(pool)
    intros = rng.sample(repliers, len(repliers)) if op.theme == "intro" else []
    posts: list[PlannedPost] = []
    solution = None
    for i in range(op.replies):
        if op.answer is not None and i == 2:
            posts.append(PlannedPost(op.answer[0], op.answer[1], quote=op.answer[1].split("\n")[0]))
            solution = len(posts) - 1
            continue
        if op.answer is not None and i == 3:
            them = _first(op.answer[0])
            posts.append(PlannedPost(op.author, THANKS.format(them=them), solution, 1))
            continue
        roll = rng.random()
        if op.theme == "intro":  # introductions, and welcomes to them
            posts.append(_introduce(rng, op, posts, intros, roll, members))
            continue
        parent: int | None = None
        if posts and roll > 0.45:
            parent = len(posts) - 1 if roll < 0.8 else rng.randrange(len(posts))
        if parent is not None and posts[parent].depth >= 4:
            parent = None
        above = posts[parent].author if parent is not None else op.author
        recent = {p.author for p in posts[-1:]}
        if parent is not None and above != op.author and rng.random() < 0.3:
            author = op.author
        else:
            author = rng.choice([h for h in repliers if h not in {above, *recent}] or repliers)
        body, quote = _compose(
            rng, op, pool, author, above, posts[parent] if parent is not None else None
        )
        depth = posts[parent].depth + 1 if parent is not None else 0
        posts.append(PlannedPost(author, body, parent, depth, quote=quote))
    _schedule(rng, op, posts, members, solution)
    return PlannedThread(op, posts, solution)


def _introduce(
    rng: random.Random,
    op: Opener,
    posts: list[PlannedPost],
    intros: list[str],
    roll: float,
    members: list[str],
) -> PlannedPost:
    """A member introducing themselves, or someone welcoming an earlier introduction."""
    if intros and (roll < 0.7 or not posts):
        person = PERSON[intros.pop()]
        about = INTROS[person.handle]
        text = f"Hello everyone, I'm {person.name}, {person.job_title} at {person.organisation}. {about}"
        return PlannedPost(person.handle, text, quote=about)
    parent = rng.choice([i for i, post in enumerate(posts) if post.parent is None])
    author = rng.choice([h for h in members if h != posts[parent].author])
    text = rng.choice(WELCOMES).format(them=_first(posts[parent].author))
    return PlannedPost(author, text, parent, 1)


def _compose(
    rng: random.Random,
    op: Opener,
    pool: list[str],
    author: str,
    above: str,
    parent: PlannedPost | None,
) -> tuple[str, str]:
    """A reply's text and the sentence from it that others may quote."""
    them = _first(above)
    if author == op.author:
        text, quote = rng.choice(FOLLOW_UPS).format(them=them), ""
    elif not pool or rng.random() < 0.25:
        text, quote = rng.choice(SHORT).format(them=them), ""
    else:
        quote = pool.pop().format(org=_org(author))
        opening = rng.choice(OPENINGS if parent is not None else OPENINGS[:4]).format(them=them)
        text = " ".join(part for part in (opening, quote, rng.choice(CLOSINGS)) if part)
    if parent is not None and parent.quote and rng.random() < 0.35:
        sentence = parent.quote.split(". ")[0].rstrip(".") + "."
        text = f"{PERSON[parent.author].name} wrote:\n\n> {sentence}\n\n{text}"
    others = [h for h in roster(op.space) if h not in {author, above, HOST}]
    if others and rng.random() < 0.2:
        who = rng.choice(others)
        mention = f"@{who}" if rng.random() < 0.5 else f"@[{PERSON[who].name}]"
        text += "\n\n" + rng.choice(MENTIONS).format(m=mention, morg=_org(who))
    return text, quote.split(". ")[0]


def _schedule(
    rng: random.Random,
    op: Opener,
    posts: list[PlannedPost],
    members: list[str],
    solution: int | None,
) -> None:
    """Spread the replies (and the helpful marks) between the thread's start and now."""
    hours, span = rng.uniform(0.5, 5), op.ago * 24
    for post in posts:
        post.hours = hours
        hours += rng.uniform(0.3, 14) * (3 if rng.random() < 0.2 else 1)
    # Some conversations fade after a few days, others are still going.
    end = span * rng.choice([rng.uniform(0.15, 0.6), rng.uniform(0.8, 0.98)])
    scale = end / posts[-1].hours if posts else 1.0
    for index, post in enumerate(posts):
        post.hours *= scale
        chance = 1.0 if index == solution else 0.25 if post.quote and op.theme != "intro" else 0.0
        if rng.random() < chance:
            others = [h for h in members if h != post.author]
            markers = rng.sample(
                others, min(len(others), 3 if index == solution else rng.choice([1, 1, 2]))
            )
            post.helpful = [(h, min(post.hours + rng.uniform(1, 30), span * 0.99)) for h in markers]


# Writing it -------------------------------------------------------------------------------------


def seed_discussions() -> int:
    """Post whatever demo threads are missing (by title, per space); returns how many."""
    users = {u.handle: u for u in db.session.scalars(select(User).where(User.handle.in_(PERSON)))}
    spaces = {s.slug: s for s in db.session.scalars(select(Space))}
    now, created = utcnow(), 0
    for planned in sorted(plan(), key=lambda p: -p.opener.ago):
        op = planned.opener
        space = spaces.get(op.space)
        if space is None or any(h not in users for h in roster(op.space)):
            continue
        exists = select(Thread.id).where(Thread.space_id == space.id, Thread.title == op.title)
        if db.session.scalar(exists) is None:
            _seed_thread(planned, space, users, now - timedelta(days=op.ago), now)
            created += 1
    return created


class _Clock:
    """Back-dates the notifications each action sends: read and e-mailed when old enough."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.seen = db.session.scalar(select(func.max(Notification.id))) or 0

    def stamp(self, when: datetime) -> None:
        old = self.now - when
        db.session.execute(
            update(Notification)
            .where(Notification.id > self.seen)
            .values(
                created_at=when,
                read_at=when + timedelta(hours=2) if old > timedelta(days=3) else None,
                emailed_at=when + timedelta(hours=20) if old > timedelta(days=1) else None,
            )
        )
        self.seen = db.session.scalar(select(func.max(Notification.id))) or self.seen


def _seed_thread(
    planned: PlannedThread, space: Space, users: dict[str, User], start: datetime, now: datetime
) -> None:
    op, clock = planned.opener, _Clock(now)
    kind = ThreadKind.question if op.question else ThreadKind.discussion
    draft = ThreadDraft(op.title, op.body, kind, op.components, op.tags)
    thread, _ = start_thread(users[op.author], space, draft)
    opening = db.session.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    opening.created_at = start
    clock.stamp(start)
    posts: list[Post] = []
    for planned_post in planned.replies:
        parent = posts[planned_post.parent] if planned_post.parent is not None else None
        post, _ = reply(users[planned_post.author], thread, planned_post.body, parent=parent)
        post.created_at = start + timedelta(hours=planned_post.hours)
        clock.stamp(post.created_at)
        posts.append(post)
    for planned_post, post in zip(planned.replies, posts, strict=True):
        for handle, hours in planned_post.helpful:
            set_helpful(users[handle], post, True)
            when = start + timedelta(hours=hours)
            db.session.get_one(HelpfulMark, (post.id, users[handle].id)).created_at = when
            clock.stamp(when)
    if planned.solution is not None and op.solved:
        thanks = posts[planned.solution + 1]
        set_solution(users[op.author], thread, posts[planned.solution])
        clock.stamp(thanks.created_at)
        if op.update:
            edit_post(users[op.author], opening, f"{op.body}\n\n{op.update}")
            opening.edited_at = thanks.created_at + timedelta(hours=1)
            clock.stamp(opening.edited_at)
    if op.pinned:
        set_thread_flag(users[HOST], thread, "pinned", True)
    thread.created_at = start
    thread.last_activity_at = max([start, *(post.created_at for post in posts)])
    db.session.commit()
