"""The organisation directory and each organisation's page."""

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import func, select

from peerlearn.accounts.directory import people_query
from peerlearn.core.pagination import paginate
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, OrganisationKind, Region
from peerlearn.organisations.services import list_organisations

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


def _enum_arg(name: str, enum_type: type[OrganisationKind] | type[Region]):  # type: ignore[no-untyped-def]
    value = request.args.get(name, "")
    return enum_type(value) if value in {member.value for member in enum_type} else None


@bp.get("")
@login_required
def index() -> str:
    kind = _enum_arg("kind", OrganisationKind)
    region = _enum_arg("region", Region)
    q = request.args.get("q", "").strip()[:100]
    return render_template(
        "organisations/index.html",
        organisations=list_organisations(kind=kind, region=region, q=q),
        kinds=list(OrganisationKind),
        regions=list(Region),
        selected={"kind": kind, "region": region, "q": q},
    )


@bp.get("/<int:organisation_id>")
@login_required
def detail(organisation_id: int) -> str:
    organisation = db.get_or_404(Organisation, organisation_id)
    page = paginate(people_query(organisation_id=organisation.id))
    children = db.session.scalars(
        select(Organisation)
        .where(Organisation.parent_id == organisation.id)
        .order_by(func.lower(Organisation.name), Organisation.id)
    ).all()
    return render_template(
        "organisations/detail.html", organisation=organisation, page=page, children=children
    )
