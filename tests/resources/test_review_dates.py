"""Review dates: a resource is marked "due for review" once its review date comes, so a new review
date must be in the future (a past one, like 01/01/1000, would mark it due at once) and at most
five years ahead (a date beyond is a typing mistake). A date a resource already has stands when
its other details are changed, even once it has passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from peerlearn.core.db import today_in_england
from peerlearn.extensions import db
from peerlearn.resources import services
from peerlearn.resources.models import (
    Classification,
    Licence,
    ResourceType,
    ResourceVisibility,
)
from tests.resources.upload_helpers import assert_no_trace, field_error, form, share

PAST = "The review date must be in the future"


def _today() -> date:
    return today_in_england()


def _five_years_on() -> date:
    return _today().replace(year=_today().year + 5)  # the suite never runs on 29 February


def _too_far() -> str:
    return f"The review date must be within 5 years, on or before {_five_years_on():%-d %B %Y}"


def _typed(day: date) -> str:
    return f"{day:%d/%m/%Y}"


@pytest.mark.parametrize(
    ("review_by", "message"),
    [
        ("01/01/1000", PAST),
        (lambda: _typed(_today() - timedelta(days=1)), PAST),
        (lambda: _typed(_today()), PAST),
        (lambda: _typed(_five_years_on() + timedelta(days=1)), _too_far),
        ("31/12/9999", _too_far),
        ("30/02/2027", "The date must be a real date, like 31/03/2027"),
        ("next spring", "Enter the date in the format day/month/year, like 31/03/2027"),
    ],
)
def test_a_review_date_in_the_past_or_far_ahead_is_refused(review_by, message, signed_in, app, qms):
    typed = review_by() if callable(review_by) else review_by
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(review_by=typed),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(page, "review_by") == (message() if callable(message) else message)
    assert f'value="{typed}"' in page  # what was typed is kept
    assert_no_trace(app)


@pytest.mark.parametrize("days", [1, None])
def test_tomorrow_and_five_years_ahead_are_accepted(days, signed_in, qms):
    day = _today() + timedelta(days=days) if days else _five_years_on()
    resource = share(signed_in, qms, review_by=_typed(day))
    assert resource.review_by == day
    assert not resource.due_for_review


def test_the_services_refuse_a_past_review_date_too(qms, uploader):
    draft = services.ResourceDraft(
        title="Flow toolkit",
        type=ResourceType.tool,
        licence=Licence.ogl_3,
        visibility=ResourceVisibility.network,
        classification=Classification.official,
        pii_declared=True,
        review_by=date(1000, 1, 1),
        link_url="https://www.england.nhs.uk/",
    )
    with pytest.raises(services.ResourceError) as refused:
        services.create_resource(uploader, qms, draft)
    assert (refused.value.field, refused.value.message) == ("review_by", PAST)


def test_a_review_date_that_has_passed_stands_when_other_details_change(signed_in, qms, uploader):
    resource = share(signed_in, qms, review_by=_typed(_today() + timedelta(days=30)))
    passed = _today() - timedelta(days=10)
    resource.review_by = passed  # a month on, and the date has come
    db.session.commit()
    assert resource.due_for_review

    edit = form(content=None, kind=None, title="Board QMS assurance template (2027)",
                review_by=_typed(passed))  # fmt: skip
    assert signed_in.post(f"/resources/{resource.id}/edit", data=edit).status_code == 302
    db.session.refresh(resource)
    assert (resource.title, resource.review_by) == ("Board QMS assurance template (2027)", passed)

    # Another date in the past is a new review date, and refused as one.
    edit["review_by"] = _typed(passed - timedelta(days=1))
    page = signed_in.post(f"/resources/{resource.id}/edit", data=edit).get_data(as_text=True)
    assert field_error(page, "review_by") == PAST


#: Half past midnight on 1 July 2026 in London (British Summer Time), still 30 June in UTC.
JUST_AFTER_MIDNIGHT_IN_LONDON = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


@pytest.fixture
def london_summer_night(monkeypatch):
    """The clock set to :data:`JUST_AFTER_MIDNIGHT_IN_LONDON` wherever the library reads it."""
    import peerlearn.core.db
    import peerlearn.resources.drafts
    import peerlearn.resources.models

    for module in (peerlearn.core.db, peerlearn.resources.drafts, peerlearn.resources.models):
        monkeypatch.setattr(module, "utcnow", lambda: JUST_AFTER_MIDNIGHT_IN_LONDON, raising=False)


def test_review_dates_are_judged_by_the_day_in_england(london_summer_night, signed_in, qms):
    # 1 July has begun in England: a resource to be reviewed by then is due ...
    resource = share(signed_in, qms, review_by="02/07/2026")
    resource.review_by = date(2026, 7, 1)
    db.session.commit()
    assert resource.due_for_review
    assert "Due for review" in signed_in.get(f"/resources/{resource.id}").get_data(as_text=True)
    # ... and a new review date of 1 July is not in the future.
    edit = form(content=None, kind=None, review_by="01/07/2026")
    resource.review_by = None
    db.session.commit()
    page = signed_in.post(f"/resources/{resource.id}/edit", data=edit).get_data(as_text=True)
    assert field_error(page, "review_by") == PAST
