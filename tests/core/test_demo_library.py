"""The demo library: real files generated in memory and stored through the library's services,
links, two case studies, provenance from several systems, an "adapted from" chain, and members'
uses, saves and downloads; seeded once and only once."""

import hashlib
import io
import zipfile

from sqlalchemy import func, select

from peerlearn.demo_library import LIBRARY
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation
from peerlearn.resources.models import (
    CaseStudySection,
    Resource,
    ResourceDownload,
    ResourceKind,
    ResourceUse,
    ResourceVersion,
    ResourceVisibility,
    SavedResource,
    StoredFile,
)
from peerlearn.resources.storage import storage
from tests.core.conftest import seed_demo
from tests.core.test_demo_discussions import _count

COUNTED = (Resource, ResourceVersion, StoredFile, CaseStudySection, ResourceUse, SavedResource,
           ResourceDownload)  # fmt: skip


def test_seed_demo_builds_a_believable_library(demo):
    resources = db.session.scalars(select(Resource)).all()
    assert len(resources) == len(LIBRARY)
    kinds = [r.kind for r in resources]
    assert kinds.count(ResourceKind.file) >= 8
    assert kinds.count(ResourceKind.link) == 4 and kinds.count(ResourceKind.case_study) == 2
    _files_are_real_documents(resources)
    _provenance_and_adaptation(resources)
    _case_studies_and_engagement(resources)


def test_seeding_again_adds_no_resources_and_stores_no_files(demo_copy):
    """On a copy of the demo seeded once (tests/core/conftest.py), and of its files, seeded a
    second time."""
    before = {model.__name__: _count(model) for model in COUNTED}
    on_disk = sorted(storage().stored())
    assert len(on_disk) == before["StoredFile"] > 0  # the copy has the files too
    seed_demo(demo_copy)
    assert {model.__name__: _count(model) for model in COUNTED} == before
    assert sorted(storage().stored()) == on_disk


def _files_are_real_documents(resources: list[Resource]) -> None:
    mimes = set()
    for resource in resources:
        if resource.kind is not ResourceKind.file:
            continue
        version = resource.current_version
        assert version is not None and version.number == 1
        with storage().open(version.sha256) as stored:
            content = stored.read()
        assert (
            hashlib.sha256(content).hexdigest() == version.sha256 and len(content) == version.size
        )
        mimes.add(version.mime)
        if version.mime == "application/pdf":
            assert content.startswith(b"%PDF-")
        else:  # Office Open XML: a zip with the document's own part
            names = zipfile.ZipFile(io.BytesIO(content)).namelist()
            assert any(n in names for n in ("word/document.xml", "xl/workbook.xml")), names
    assert mimes == {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


def _provenance_and_adaptation(resources: list[Resource]) -> None:
    organisations = {r.organisation_id for r in resources}
    assert None not in organisations and len(organisations) >= 6
    systems = db.session.scalars(
        select(Organisation.parent_id).where(Organisation.id.in_(organisations)).distinct()
    ).all()
    assert len(set(systems)) >= 4  # from several systems
    adapted = [r for r in resources if r.adapted_from_id is not None]
    assert adapted
    for resource in adapted:
        assert resource.organisation_id != resource.adapted_from.organisation_id
    for resource in resources:
        assert resource.pii_declared_at is not None
        if resource.classification.sensitive:
            assert resource.visibility is ResourceVisibility.space
        assert resource.space.memberships  # shared in a real demo space
    assert any(r.due_for_review for r in resources)


def _case_studies_and_engagement(resources: list[Resource]) -> None:
    for resource in resources:
        if resource.kind is ResourceKind.case_study:
            sections = db.session.scalars(
                select(CaseStudySection).where(CaseStudySection.resource_id == resource.id)
            ).all()
            assert len(sections) == 7 and all(s.html.startswith("<") for s in sections)
    assert _count(ResourceUse) >= 20 and _count(SavedResource) >= 3
    assert _count(ResourceDownload) >= 15
    for resource in resources:
        downloads = select(func.count()).where(
            ResourceDownload.version_id.in_(
                select(ResourceVersion.id).where(ResourceVersion.resource_id == resource.id)
            )
        )
        assert resource.download_count == db.session.scalar(downloads)
