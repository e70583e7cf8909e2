"""Words the generator builds believable rows from: people, places, organisations, spaces,
thread titles and post bodies. All fictional; e-mail addresses use the reserved
``peerlearn.example`` domain."""

import random


def _list(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(sep))


FIRST_NAMES = _list(
    "Aisha Amara Ben Bronwen Callum Chloe Daniel Deepa Eilidh Emeka Fatima Gareth Grace Hamza "
    "Hannah Imran Isla Jack Jasmin Kwame Laura Liam Maria Mohammed Nadia Niamh Oliver Olu Priya "
    "Rachel Rhys Ruth Sam Sanjay Sarah Siobhan Tom Yusuf Zainab Zoe"
)
SURNAMES = _list(
    "Adeyemi Ahmed Ali Bennett Brown Campbell Chen Clarke Davies Evans Green Hall Hughes Hussain "
    "Jackson Jones Khan Kaur Lewis Martin Mensah Morgan Murphy Nguyen Okafor O'Brien Patel Price "
    "Roberts Robinson Shah Singh Smith Taylor Thomas Walker Williams Wilson Wright Young"
)
JOB_TITLES = (
    "Director of Improvement",
    "Head of Quality Improvement",
    "Improvement Lead",
    "QI Coach",
    "Flow Coach",
    "Associate Director of Transformation",
    "Chief Nurse",
    "Medical Director",
    "Programme Manager",
    "Improvement Advisor",
    "Head of Patient Safety",
    "Data Analyst",
)
PLACES = _list(
    "Aireborough Bassetmoor Brackley Calderdale Castlebridge Corringham Denholme Eastmere Fenwick "
    "Glenridge Hartwell Holmbury Ingleby Keswick Kingsford Langdale Lowestead Marlow Middlecombe "
    "Northfleet Oakhampton Pendle Ravensworth Redcliffe Rothwell Saltmarsh Sandford Selbury "
    "Sheringham Stanmore Thornbury Tillingham Upperby Wakehurst Wellbrook Westholme Whitmore "
    "Wickford Windermere Woodbridge Yarrowby Yeovale"
)
TRUST_KINDS = (
    "Teaching Hospitals",
    "University Hospitals",
    "Hospitals",
    "Community Health Services",
    "Mental Health",
)
COMMUNITIES = (
    "Improvement Directors Network",
    "Quality Improvement Practitioners",
    "Flow and Operational Improvement",
    "Patient Safety Improvement",
    "Improvement Data and Analytics",
    "Leadership for Improvement",
    "Clinical Improvement Leads",
    "Primary and Community Improvement",
    "Mental Health Improvement",
    "Improvement Coaching",
    "Board Development for Improvement",
    "System Improvement Partners",
)
TOPICS = _list(
    "Quality Management Systems; Flow Coaching; Statistical Process Control; Lean; Kaizen; Value "
    "Stream Mapping; Measurement for Improvement; Demand and Capacity; Patient Experience; "
    "Co-production; Huddles; Visual Management; A3 Thinking; Model for Improvement; Discharge "
    "Planning; Theatre Productivity; Outpatients; Urgent and Emergency Care; Virtual Wards; "
    "Health Inequalities; Staff Retention; Improvement Capability; Board Assurance; Clinical "
    "Audit; Human Factors; Safety Culture; Deterioration; Maternity Safety; Falls Prevention; "
    "Pressure Ulcers; Sepsis; Medicines Safety; Digital Improvement; Procurement; Estates; "
    "Sustainability; Primary Care Access; Elective Recovery; Mental Health Flow; Learning "
    "Disabilities",
    sep="; ",
)
TAGS = _list(
    "SPC; board reporting; A3; huddles; flow; metrics; coaching; training; PDSA; driver diagrams; "
    "run charts; process mapping; 5S; standard work; kaizen events; gemba; governance; data "
    "quality",
    sep="; ",
)
QUESTIONS = (
    "How did you set up {topic} reporting for your board?",
    "Has anyone used {tag} to support {topic}?",
    "What worked when you introduced {topic} across a system?",
    "Looking for a {topic} template we can adapt",
    "How do you keep {tag} going after the first year?",
    "{topic}: lessons from our first ninety days",
    "Measuring {topic}: which indicators do you report?",
    "Getting clinical teams on board with {tag}",
    "Our {topic} maturity self-assessment: feedback welcome",
    "Building {tag} capability on the wards",
)
SENTENCES = (
    "We started with a single ward and a weekly huddle, then spread to the division.",
    "The board now sees **SPC charts** for our ten most important measures every month.",
    "Our biggest lesson was to agree the *operational definition* of each measure first.",
    "We used a driver diagram to connect the work to our strategic objectives.",
    "Teams test changes in small PDSA cycles and share what they learn at the fortnightly review.",
    "Data quality was the hardest part: we spent two months cleaning the discharge times.",
    "Executive sponsorship made the difference; the chief nurse attends the gemba walks.",
    "We trained 120 staff in improvement basics last year and 20 in advanced methods.",
    "The value stream map showed that patients waited longest for pharmacy sign-off.",
    "Happy to share our template; it is on the shared drive and in the library here.",
    "Has anyone linked this to the NHS IMPACT self-assessment? We scored ourselves at level 2.",
    "We found that visual management boards only worked when the team owned them.",
    "Capacity is the constraint: our improvement team is four people for six thousand staff.",
    "See https://www.england.nhs.uk/nhsimpact/ for the framework we followed.",
    "The run chart showed a shift after week six, which matched the new triage standard.",
    "We paused the work during winter and lost momentum; next time we would protect it.",
)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def thread_title(rng: random.Random) -> str:
    return rng.choice(QUESTIONS).format(topic=rng.choice(TOPICS), tag=rng.choice(TAGS))


def post_bodies(rng: random.Random, count: int = 60) -> list[str]:
    """Markdown bodies from one line to a few paragraphs, some with a list."""
    bodies = []
    for n in range(count):
        paragraphs = []
        for _ in range(1 + (n % 4)):
            paragraphs.append(" ".join(rng.sample(SENTENCES, k=1 + rng.randrange(3))))
        if n % 5 == 0:
            paragraphs.append("\n".join(f"- {s}" for s in rng.sample(SENTENCES, k=3)))
        bodies.append("\n\n".join(paragraphs))
    return bodies


def slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
