"""Space pages: the list, a space's home, its members, its settings and its audit log."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from peerlearn.accounts.models import User
from peerlearn.audit.reading import shown_details
from peerlearn.audit.services import entries_query
from peerlearn.core.forms import DirectoryFilterForm, show_error
from peerlearn.core.pagination import paginate
from peerlearn.extensions import db
from peerlearn.organisations.services import organisation_choices, region_choices
from peerlearn.permissions import NETWORK, Action, authorize, can, space_or_404
from peerlearn.spaces import memberships, services
from peerlearn.spaces.forms import BanForm, InviteForm, NewSpaceForm, RoleForm, SpaceSettingsForm
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    MemberState,
    Space,
    SpaceKind,
    Visibility,
)

bp = Blueprint("spaces", __name__, url_prefix="/spaces")

#: A role as it reads in a sentence ("is now a moderator of …").
ROLE_NAMES = {
    MemberRole.owner: "an owner",
    MemberRole.moderator: "a moderator",
    MemberRole.member: "a member",
}


def _back(space: Space) -> Response:
    target = request.form.get("next")
    if target == "members":
        return redirect(url_for("spaces.members", slug=space.slug))
    return redirect(url_for("spaces.home", slug=space.slug))


@bp.get("")
def index() -> str:
    spaces = services.listed_spaces(current_user)
    ids = [space.id for space in spaces]
    communities = [space for space in spaces if space.parent_id is None]
    by_parent: dict[int, list[Space]] = {}
    for space in spaces:
        if space.parent_id is not None:
            by_parent.setdefault(space.parent_id, []).append(space)
    listed_parents = {space.id for space in communities}
    orphans = [s for s in spaces if s.parent_id is not None and s.parent_id not in listed_parents]
    return render_template(
        "spaces/index.html",
        communities=communities,
        by_parent=by_parent,
        orphans=orphans,
        counts=services.member_counts(ids),
        mine=services.states_for(current_user, ids),
        readable=services.readable_ids(current_user, ids),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    """Create a community or special interest group (network administrators)."""
    authorize(Action.manage, NETWORK)
    form = NewSpaceForm(
        data=None
        if request.method == "POST"
        else {"visibility": "network", "join_policy": "open", "kind": "sig"}
    )
    form.parent_id.choices = [SelectChoice("", "None (this is a community)")] + [
        SelectChoice(str(c.id), c.name) for c in services.open_communities()
    ]
    if form.validate_on_submit():
        try:
            space = services.create_space(
                current_user,
                _space_data(form),
                slug=form.slug.data,
                kind=SpaceKind(form.kind.data),
                parent=db.session.get(Space, form.parent_id.data) if form.parent_id.data else None,
                owner_email=form.owner_email.data or "",
            )
        except services.SpaceError as error:
            show_error(form, error)
        else:
            flash(f"{space.name} has been created.", "success")
            return redirect(url_for("spaces.home", slug=space.slug))
    return render_template("spaces/new.html", form=form)


def _space_data(form: NewSpaceForm | SpaceSettingsForm) -> services.SpaceData:
    """The settings a new space's form and a space's settings form share, as the service takes
    them."""
    return services.SpaceData(
        name=form.name.data,
        summary=form.summary.data or "",
        description=form.description.data or "",
        visibility=Visibility(form.visibility.data),
        join_policy=JoinPolicy(form.join_policy.data),
    )


@bp.get("/<slug>")
def home(slug: str) -> str:
    space = space_or_404(slug, Action.list)
    membership = services.states_for(current_user, [space.id]).get(space.id)
    # Anonymous visitors never get here for a space that is not public: _space sent them to sign in.
    readable = can(current_user, Action.view, space)
    counts = services.member_counts([space.id])
    return render_template(
        "spaces/home.html",
        space=space,
        membership=membership,
        readable=readable,
        member_count=counts.get(space.id, 0),
        moderators=services.moderators_of(space) if readable else [],
        children=services.listed_groups(current_user, space),
        pending_requests=(
            services.count_pending(space, MemberState.requested)
            if can(current_user, Action.moderate, space)
            else 0
        ),
    )


@bp.post("/<slug>/join")
@login_required
def join(slug: str) -> Response:
    space = space_or_404(slug, Action.list)
    if not _joined_already(space):
        authorize(Action.join, space)
    try:
        state = memberships.join_space(current_user, space)
    except services.SpaceError as error:
        flash(error.message, "error")
    else:
        if state is MemberState.requested:
            flash(f"You have asked to join {space.name}. Its moderators will reply.", "success")
        else:
            flash(f"You are now a member of {space.name}.", "success")
    return _back(space)


def _joined_already(space: Space) -> bool:
    """Whether the reader's click on Join (Ask to join, Accept invitation) has already been
    answered, as the second click of a double click finds: the service then says so beside the
    space, where the policy, which lets nobody join a space twice, would refuse it with a 403."""
    membership = services.get_membership(space, current_user)
    return membership is not None and membership.state in {
        MemberState.active,
        MemberState.requested,
    }


@bp.post("/<slug>/leave")
@login_required
def leave(slug: str) -> Response:
    space = space_or_404(slug, Action.list)
    membership = services.get_membership(space, current_user)
    try:
        memberships.leave_space(current_user, space)
    except services.SpaceError as error:
        flash(error.message, "error")
    else:
        flash(
            {
                MemberState.active: f"You have left {space.name}.",
                MemberState.requested: "Your request to join has been withdrawn.",
                MemberState.invited: "You have declined the invitation.",
            }.get(membership.state if membership else MemberState.active, "Done."),
            "success",
        )
    return _back(space)


@bp.get("/<slug>/members")
@login_required
def members(slug: str) -> str:
    space = space_or_404(slug, Action.list)
    authorize(Action.view, space)
    return _members_page(space, InviteForm(formdata=None))


def _members_page(space: Space, invite_form: InviteForm) -> str:
    """A space's member list, with the moderators' tools and ``invite_form`` as it stands."""
    form = DirectoryFilterForm(request.args)
    form.organisation.choices = organisation_choices("Any organisation")
    form.region.choices = region_choices()
    page = paginate(services.members_query(space, **form.filters()))  # type: ignore[arg-type]
    moderating = can(current_user, Action.moderate, space)
    return render_template(
        "spaces/members.html",
        space=space,
        form=form,
        page=page,
        roles=services.memberships_in(space, [user.id for user in page.items]),
        moderating=moderating,
        managing=can(current_user, Action.manage, space),
        requests=services.pending(space, MemberState.requested) if moderating else [],
        invitations=services.pending(space, MemberState.invited) if moderating else [],
        banned=services.pending(space, MemberState.banned) if moderating else [],
        invite_form=invite_form,
        role_form=RoleForm(),
        ban_form=BanForm(),
    )


@bp.post("/<slug>/members/invite")
@login_required
def invite(slug: str) -> str | Response:
    space = space_or_404(slug, Action.list)
    authorize(Action.moderate, space)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            state = memberships.invite(current_user, space, form.email.data)
        except services.SpaceError as error:
            form.email.errors = [*form.email.errors, error.message]
        else:
            if state is MemberState.active:  # they had asked to join: admitted, not invited
                flash(f"{form.email.data} had asked to join and is now a member.", "success")
            else:
                flash(f"Invitation sent to {form.email.data}.", "success")
            return redirect(url_for("spaces.members", slug=space.slug))
    # The page again, with the reason beside the address (and in the error summary), and the
    # address as typed, ready to correct.
    return _members_page(space, form)


@bp.post("/<slug>/members/<int:user_id>/<any(approve, decline, remove, ban, unban, role):action>")
@login_required
def manage_member(slug: str, user_id: int, action: str) -> Response:
    space = space_or_404(slug, Action.list)
    authorize(Action.manage if action == "role" else Action.moderate, space)
    user = db.get_or_404(User, user_id)
    membership = services.get_membership(space, user)
    if action != "ban" and membership is None:
        abort(404)
    # Whom a moderator may remove or ban the service asks the policy, once it holds the space.
    try:
        if action == "approve":
            memberships.approve_request(current_user, membership)  # type: ignore[arg-type]
            message = f"{user.display_name} is now a member."
        elif action == "decline":
            memberships.decline_request(current_user, membership)  # type: ignore[arg-type]
            message = f"{user.display_name}'s request was declined."
        elif action == "remove":
            memberships.remove_member(current_user, membership)  # type: ignore[arg-type]
            message = f"{user.display_name} has been removed."
        elif action == "ban":
            form = BanForm()
            if not form.validate():
                raise services.SpaceError("; ".join(form.reason.errors))
            memberships.ban(current_user, space, user, form.reason.data or "")
            message = f"{user.display_name} has been banned from {space.name}."
        elif action == "unban":
            memberships.unban(current_user, membership)  # type: ignore[arg-type]
            message = f"The ban on {user.display_name} has been lifted."
        else:
            form = RoleForm()
            if not form.validate():
                raise services.SpaceError("Choose a role")
            role = MemberRole(form.role.data)
            memberships.change_role(current_user, membership, role)  # type: ignore[arg-type]
            message = f"{user.display_name} is now {ROLE_NAMES[role]} of {space.name}."
    except services.SpaceError as error:
        flash(error.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("spaces.members", slug=space.slug))


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str) -> str | Response:
    space = space_or_404(slug, Action.list)
    authorize(Action.manage, space)
    form = SpaceSettingsForm(
        obj=space,
        data=None
        if request.method == "POST"
        else {
            "description": space.description_source,
            "visibility": space.visibility.value,
            "join_policy": space.join_policy.value,
        },
    )
    if form.validate_on_submit():
        admitted = services.update_space(
            current_user,
            space,
            _space_data(form),
        )
        if admitted is not None:
            flash(f"The space's settings have been saved.{_admitted(admitted)}", "success")
        else:
            flash("Nothing changed: the space's settings were already as you saved them.", "info")
        return redirect(url_for("spaces.home", slug=space.slug))
    return render_template("spaces/settings.html", space=space, form=form)


def _admitted(count: int) -> str:
    """What the settings page says of the people admitted as the space opened to anyone."""
    if count == 0:
        return ""
    if count == 1:
        return " The person who had asked to join is now a member."
    return f" The {count} people who had asked to join are now members."


@bp.get("/<slug>/audit")
@login_required
def audit(slug: str) -> str:
    space = space_or_404(slug, Action.list)
    authorize(Action.audit, space)
    page = paginate(entries_query(space=space), per_page=50)
    details = shown_details(current_user, page.items)
    return render_template("spaces/audit.html", space=space, page=page, details=details)
