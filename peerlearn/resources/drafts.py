"""What a member enters about a resource (a draft) and the library's rules for it, one function
per rule, each refusing with a :class:`ResourceError` beside its field.

The services check a whole draft with :func:`check_draft` before they act. The forms report the
same rules beside their fields along with their own checks (see
:func:`~peerlearn.core.forms.report`), so a member sees every problem at once; the services still
check again, so a rule holds whatever calls them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from peerlearn.accounts.directory import listed_people
from peerlearn.accounts.models import User
from peerlearn.core.db import today_in_england
from peerlearn.core.errors import RuleError
from peerlearn.core.links import web_address_problem
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation
from peerlearn.permissions import Action, can, reads_sensitive
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    Resource,
    ResourceAuthor,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.spaces.models import Space, Visibility

MAX_TITLE = 200
MAX_TAGS = 10
MAX_TAG = 50
MAX_AUTHORS = 10
#: How far ahead a review date may be: a date beyond is a typing mistake (2072 for 2027).
REVIEW_YEARS_AHEAD = 5


class ResourceError(RuleError):
    """A rule about the library was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


@dataclass(frozen=True)
class ResourceDraft:
    """What a member enters about a resource (everything but the file itself)."""

    title: str
    type: ResourceType
    licence: Licence
    visibility: ResourceVisibility
    classification: Classification
    #: The member confirmed it holds no patient-identifiable information.
    pii_declared: bool
    summary: str = ""
    components: tuple[ImpactComponent, ...] = ()
    qms_elements: tuple[QmsElement, ...] = ()
    tags: tuple[str, ...] = ()
    #: The originating organisation. None: the sharer's own for a new resource; not recorded
    #: for one being changed (an edit never records provenance nobody chose).
    organisation_id: int | None = None
    adapted_from_id: int | None = None
    review_by: date | None = None
    #: Other members credited as authors (the uploader always is).
    author_ids: tuple[int, ...] = ()
    #: For a link: its address. None for anything else (a new resource without a file then has
    #: nothing to share).
    link_url: str | None = None
    #: The sharing form's one-time key: sending the same form twice shares one resource.
    submission_key: str | None = None


# One rule each ---------------------------------------------------------------------------------


def check_title(title: str) -> str:
    """The title with its runs of spaces made one, if it is there and not too long."""
    title = " ".join(title.split())
    if not title:
        raise ResourceError("Enter a title", field="title")
    if len(title) > MAX_TITLE:
        raise ResourceError(f"Title must be {MAX_TITLE} characters or fewer", field="title")
    return title


def check_declaration(declared: bool) -> None:
    """Nothing is shared without its sharer's word that it identifies no patient."""
    if not declared:
        raise ResourceError(
            "Confirm that the resource contains no patient-identifiable information",
            field="pii_declaration",
        )


def check_review_by(review_by: date | None, resource: Resource | None = None) -> None:
    """A review date, when one is given, is after today (today or earlier would mark the
    resource due for review at once) and at most :data:`REVIEW_YEARS_AHEAD` years ahead. The
    date ``resource`` (the one being changed) already has stands, even once it has passed:
    marking it due for review is what that date is for."""
    if review_by is None or (resource is not None and review_by == resource.review_by):
        return
    today = today_in_england()  # the day "due for review" is judged by
    if review_by <= today:
        raise ResourceError("The review date must be in the future", field="review_by")
    try:
        latest = today.replace(year=today.year + REVIEW_YEARS_AHEAD)
    except ValueError:  # 29 February, in a year without one
        latest = today.replace(year=today.year + REVIEW_YEARS_AHEAD, day=28)
    if review_by > latest:
        raise ResourceError(
            f"The review date must be within {REVIEW_YEARS_AHEAD} years, on or before "
            f"{latest:%-d %B %Y}",
            field="review_by",
        )


def widest_visibility(space: Space) -> ResourceVisibility:
    """The widest visibility a resource in this space may have: never wider than the space."""
    return {
        Visibility.public: ResourceVisibility.public,
        Visibility.network: ResourceVisibility.network,
        Visibility.private: ResourceVisibility.space,
    }[space.visibility]


def visibility_choices(space: Space) -> list[ResourceVisibility]:
    """The visibilities offered for a resource in this space, narrowest first."""
    widest = list(ResourceVisibility).index(widest_visibility(space))
    return list(ResourceVisibility)[: widest + 1]


def check_visibility(
    space: Space, visibility: ResourceVisibility, classification: Classification | None
) -> None:
    """Never wider than the space; OFFICIAL-SENSITIVE material for the space's members only."""
    if visibility not in visibility_choices(space):
        raise ResourceError(
            "This space's library can only be shared as widely as the space itself: choose "
            + " or ".join(f"“{v.label}”" for v in visibility_choices(space)),
            field="visibility",
        )
    if classification is Classification.official_sensitive and (
        visibility is not ResourceVisibility.space
    ):
        raise ResourceError(
            "OFFICIAL-SENSITIVE material can only be shared with this space's members: choose "
            f"“{ResourceVisibility.space.label}”, or mark it OFFICIAL if it is not sensitive",
            field="visibility",
        )


def check_sharer(actor: User, space: Space, classification: Classification | None) -> None:
    """OFFICIAL-SENSITIVE material is shared only by those it reaches: the space's members (a
    network administrator who is not one would share what they could then not open)."""
    if classification is Classification.official_sensitive and not reads_sensitive(actor, space):
        raise ResourceError(
            "Only members of this space can share OFFICIAL-SENSITIVE material here: join the "
            "space first, or mark it OFFICIAL if it is not sensitive",
            field="classification",
        )


#: Licences from the widest terms to the narrowest: an adaptation is offered on terms no wider
#: than its original's. (The Open Government Licence and CC BY both allow any use with credit.)
_LICENCE_REACH = {
    Licence.ogl_3: 0,
    Licence.cc_by_4: 0,
    Licence.cc_by_nc_4: 1,
    Licence.members_only: 2,
}


def check_licence_reach(
    licence: Licence | None, visibility: ResourceVisibility | None, resource: Resource | None = None
) -> None:
    """Material licensed for network members only is never shown to people outside the network.
    What ``resource`` (the one being changed) already has stands while neither is changed."""
    if resource is not None and (licence, visibility) == (resource.licence, resource.visibility):
        return
    if licence is Licence.members_only and visibility is ResourceVisibility.public:
        raise ResourceError(
            "Material licensed for network members only cannot be shared with people outside "
            f"the network: choose “{ResourceVisibility.network.label}” or narrower, or a "
            "licence that allows publishing it",
            field="visibility",
        )


def check_adapted_licence(
    actor: User, licence: Licence | None, original_id: int | None, resource: Resource | None = None
) -> None:
    """An adaptation is offered on terms no wider than its original's: what is for network
    members only stays so, and what is for non-commercial use stays non-commercial. What
    ``resource`` (the one being changed) already has stands while neither is changed. An
    original the actor cannot see is not named here (:func:`check_adapted_from` refuses it)."""
    if licence is None or original_id is None:
        return
    if resource is not None and (licence, original_id) == (
        resource.licence,
        resource.adapted_from_id,
    ):
        return
    original = db.session.get(Resource, original_id)
    if original is None or not can(actor, Action.view, original):
        return
    if _LICENCE_REACH[licence] >= _LICENCE_REACH[original.licence]:
        return
    allowed = [
        other for other in Licence if _LICENCE_REACH[other] >= _LICENCE_REACH[original.licence]
    ]
    raise ResourceError(
        f"“{original.title}” is licensed {original.licence.label}, so what is adapted from it "
        "cannot be offered on wider terms: choose "
        + " or ".join(f"“{other.label}”" for other in allowed),
        field="licence",
    )


def check_organisation(organisation_id: int | None) -> None:
    """An originating organisation, when one is given, is in the directory."""
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        raise ResourceError("Choose an organisation from the list", field="organisation_id")


def check_adapted_from(actor: User, original_id: int | None, resource: Resource | None) -> None:
    """The resource ``resource`` (None while it is being shared) was adapted from: one the actor
    can see, and never one of its own adaptations."""
    if original_id is None:
        return
    original = db.session.get(Resource, original_id)
    # Provenance left as it was stands, even once the original is out of the editor's sight
    # (removed, or narrowed): it is only checked when it is given or changed.
    kept = resource is not None and original_id == resource.adapted_from_id
    if original is None or not (kept or can(actor, Action.view, original)):
        raise ResourceError("Choose a resource you can see in the library", field="adapted_from")
    if resource is not None:
        _check_adaptation(resource, original)


def _check_adaptation(resource: Resource, original: Resource) -> None:
    """Refuse to record ``resource`` as adapted from itself, or from one of its own adaptations
    however far down (A from B when B is from A, or from C from A): "adapted from" traces where
    material came from, so it never runs in a loop. A loop recorded before this check ends the
    walk rather than running it for ever."""
    if original.id == resource.id:
        raise ResourceError(
            "A resource cannot be adapted from itself. Enter the resource you adapted, or leave "
            "this empty",
            field="adapted_from",
        )
    seen = {original.id}
    ancestor_id = original.adapted_from_id
    while ancestor_id is not None and ancestor_id not in seen:
        if ancestor_id == resource.id:
            raise ResourceError(
                f"“{original.title}” was adapted from this resource, directly or through others, "
                "so this resource cannot be adapted from it",
                field="adapted_from",
            )
        seen.add(ancestor_id)
        ancestor_id = db.session.scalar(
            select(Resource.adapted_from_id).where(Resource.id == ancestor_id)
        )


def check_link(url: str | None) -> str:
    """A link's address, if it is one others may follow
    (:func:`~peerlearn.core.links.web_address_problem`)."""
    url = (url or "").strip()
    if not url:
        raise ResourceError("Enter the web address of the page you are sharing", field="link_url")
    problem = web_address_problem(url)
    if problem:
        raise ResourceError(problem, field="link_url")
    if len(url) > 2000:
        raise ResourceError("The web address must be 2,000 characters or fewer", field="link_url")
    return url


def clean_tags(tags: tuple[str, ...]) -> list[str]:
    """Free tags in lower case, each once, in the order given."""
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(tag.lower().split()).strip("#")
        if not tag or tag in cleaned:
            continue
        if len(tag) > MAX_TAG:
            raise ResourceError(f"Each tag must be {MAX_TAG} characters or fewer", field="tags")
        cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ResourceError(f"Add at most {MAX_TAGS} tags", field="tags")
    return cleaned


_HANDLE = re.compile(r"@?([A-Za-z0-9][A-Za-z0-9_-]*)")


def authors_from_handles(text: str, resource: Resource | None = None) -> list[User]:
    """Members named by their @handles (comma or space separated): people the network lists
    (:func:`~peerlearn.accounts.directory.listed_people`), as for mentions; an unknown handle is
    an error beside the authors field. The authors ``resource`` (the one being changed) already
    credits stand, even once the network no longer lists them (a closed account): their credit
    is not lost because someone corrects its title."""
    handles = [m.group(1).lower() for m in _HANDLE.finditer(text or "")]
    if len(handles) > MAX_AUTHORS:
        raise ResourceError(f"Name at most {MAX_AUTHORS} other authors", field="authors")
    creditable = listed_people()
    if resource is not None and resource.id is not None:
        credited = select(ResourceAuthor.user_id).where(ResourceAuthor.resource_id == resource.id)
        creditable = or_(creditable, User.id.in_(credited))
    found = {
        u.handle.lower(): u
        for u in db.session.scalars(select(User).where(User.handle.in_(handles), creditable))
    }
    unknown = [h for h in handles if h not in found]
    if unknown:
        raise ResourceError(
            "No member has the handle " + ", ".join(f"@{h}" for h in unknown), field="authors"
        )
    return list(dict.fromkeys(found[h] for h in handles))


# A whole draft ---------------------------------------------------------------------------------


def check_draft(
    actor: User, space: Space, draft: ResourceDraft, resource: Resource | None = None
) -> None:
    """Refuse a draft that breaks a rule, before any file is touched. ``resource`` is the one
    being changed, once it exists. (A link's address is checked as it is written.)"""
    check_title(draft.title)
    check_declaration(draft.pii_declared)
    check_visibility(space, draft.visibility, draft.classification)
    check_sharer(actor, space, draft.classification)
    check_licence_reach(draft.licence, draft.visibility, resource)
    check_adapted_licence(actor, draft.licence, draft.adapted_from_id, resource)
    check_organisation(draft.organisation_id)
    check_adapted_from(actor, draft.adapted_from_id, resource)
    check_review_by(draft.review_by, resource)
    clean_tags(draft.tags)
