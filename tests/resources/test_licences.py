"""Licences that agree with who can see a resource and with what it was adapted from: material
for network members only is never shared with anyone outside the network, and an adaptation is
offered on terms no wider than its original's (members only stays members only; non-commercial
stays non-commercial). A resource's licence and visibility left as they were stand when its
other details change."""

from __future__ import annotations

import pytest

from peerlearn.extensions import db
from peerlearn.resources.models import Licence, Resource, ResourceVisibility
from peerlearn.spaces.models import Visibility
from tests.resources.upload_helpers import (
    assert_no_trace,
    count,
    field_error,
    form,
    share,
    stored_files,
)

MEMBERS_ONLY_PUBLIC = (
    "Material licensed for network members only cannot be shared with people outside the "
    "network: choose “All network members” or narrower, or a licence that allows publishing it"
)


@pytest.fixture
def public_sig(make_space, add_member, uploader):
    space = make_space("Flow Coaching SIG", visibility=Visibility.public)
    add_member(space, uploader)
    return space


def _send(client, space, **fields):
    return client.post(
        f"/spaces/{space.slug}/library/new", data=form(**fields), content_type="multipart/form-data"
    )


def test_members_only_material_is_never_public(app, signed_in, public_sig):
    response = _send(signed_in, public_sig, licence="members-only", visibility="public")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(page, "visibility") == MEMBERS_ONLY_PUBLIC
    assert 'value="members-only" checked' in page  # what was chosen is kept
    assert_no_trace(app)

    resource = share(signed_in, public_sig, licence="members-only", visibility="network")
    assert (resource.licence, resource.visibility) == (
        Licence.members_only,
        ResourceVisibility.network,
    )


@pytest.mark.parametrize(
    ("original", "refused", "allowed"),
    [
        (Licence.members_only, ["ogl-3", "cc-by-4", "cc-by-nc-4"], "members-only"),
        (Licence.cc_by_nc_4, ["ogl-3", "cc-by-4"], "cc-by-nc-4"),
        (Licence.cc_by_nc_4, [], "members-only"),
        (Licence.ogl_3, [], "cc-by-nc-4"),
    ],
)
def test_an_adaptation_is_offered_on_terms_no_wider_than_its_original(
    original, refused, allowed, app, signed_in, qms, make_resource
):
    source = make_resource(qms, title="Flow toolkit", licence=original)
    for licence in refused:
        page = _send(signed_in, qms, licence=licence, adapted_from=str(source.id))
        message = field_error(page.get_data(as_text=True), "licence")
        assert message.startswith(f"“Flow toolkit” is licensed {original.label}")
        assert (stored_files(app), count(Resource)) == ([], 1)  # only the original
    resource = share(signed_in, qms, licence=allowed, adapted_from=str(source.id))
    assert (resource.licence.value, resource.adapted_from_id) == (allowed, source.id)


def test_a_licence_left_as_it_was_stands_when_other_details_change(
    signed_in, qms, public_sig, make_resource
):
    source = make_resource(qms, title="Flow toolkit", licence=Licence.cc_by_nc_4)
    resource = share(signed_in, public_sig, licence="cc-by-nc-4", adapted_from=str(source.id),
                     visibility="public")  # fmt: skip
    source.licence = Licence.members_only  # its owner narrowed it later
    resource.licence = Licence.members_only  # shared before the rule, say
    db.session.commit()

    edit = form(content=None, kind=None, title="Flow toolkit, our version",
                licence="members-only", adapted_from=str(source.id), visibility="public")  # fmt: skip
    assert signed_in.post(f"/resources/{resource.id}/edit", data=edit).status_code == 302
    db.session.refresh(resource)
    assert resource.title == "Flow toolkit, our version"

    # Changing who can see it is checked against its licence again.
    edit["visibility"] = "public"
    edit["licence"] = "members-only"
    resource.visibility = ResourceVisibility.network
    db.session.commit()
    page = signed_in.post(f"/resources/{resource.id}/edit", data=edit).get_data(as_text=True)
    assert field_error(page, "visibility") == MEMBERS_ONLY_PUBLIC
