"""Managing accounts: finding people, deactivating and reactivating them, and appointing
administrators. Each change is audited."""

import html
import re

import pytest
from sqlalchemy import select

from peerlearn.accounts import administration
from peerlearn.accounts import services as accounts
from peerlearn.accounts.models import SiteRole, User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from tests.accounts.pages import Page
from tests.concurrency import at_once
from tests.conftest import PASSWORD


def last_audit(action: str) -> AuditEntry:
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )
    assert entry is not None, f"no {action} in the audit log"
    return entry


def reloaded(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def names(page: Page) -> list[str]:
    """The names in the accounts table, in order (the first cell of each row, without the
    column's heading that a phone shows beside each value and a screen reader skips)."""
    body = page.html.partition("<tbody")[2]
    cells = re.findall(
        r'<tr class="nhsuk-table__row"[^>]*>\s*<td class="nhsuk-table__cell"[^>]*>(.*?)</td>',
        body,
        re.S,
    )
    cells = [re.sub(r'<span[^>]*aria-hidden="true"[^>]*>.*?</span>', "", cell) for cell in cells]
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def buttons(page: Page) -> list[str]:
    """The accessible names of the page's buttons: their aria-label, or else their text."""
    found = re.findall(r"<button([^>]*)>(.*?)</button>", page.html, re.S)
    return [
        html.unescape(
            label.group(1) if (label := re.search(r'aria-label="([^"]*)"', attrs)) else text.strip()
        )
        for attrs, text in found
    ]


@pytest.fixture
def people(make_user):
    return {
        "tess": make_user("Tess Target", "tess.target@lthtr.nhs.uk"),
        "sam": make_user("Sam Smith", "sam@nhs.net"),
        "pat": make_user("Pat 100% Percent", "pat_percent@nhs.net"),
    }


def test_the_users_page_lists_everyone_with_their_details(admin_client, people):
    page = Page(admin_client.get("/admin/users"))
    assert page.h1 == "Users"
    assert names(page) == ["Ada Admin", "Pat 100% Percent", "Sam Smith", "Tess Target"]
    assert "4 accounts" in page.main_text
    assert "Name Tess Target E-mail address tess.target@lthtr.nhs.uk" in page.main_text
    assert "Name Ada Admin E-mail address ada@england.nhs.uk" in page.main_text
    assert "Role Administrator Status Active This is you" in page.main_text


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("tess", ["Tess Target"]),
        ("NHS.NET", ["Pat 100% Percent", "Sam Smith"]),
        ("smith", ["Sam Smith"]),
        ("%", ["Pat 100% Percent"]),
        ("_", ["Pat 100% Percent"]),
        ("nobody", []),
    ],
)
def test_searching_by_name_or_email(admin_client, people, q, expected):
    page = Page(admin_client.get("/admin/users", query_string={"q": q}))
    assert page.status == 200
    assert names(page) == expected
    assert page.values["q"] == q


def test_deactivating_an_account_signs_its_owner_out_and_keeps_them_out(
    admin_client, admin, new_client, login, people
):
    tess = people["tess"]
    tess_browser = new_client()
    login(tess_browser, tess)
    assert tess_browser.get("/account").status_code == 200

    page = Page(admin_client.get("/admin/users?q=tess"))
    assert {"Deactivate Tess Target's account", "Make admin: Tess Target"} <= set(buttons(page))
    response = admin_client.post(f"/admin/users/{tess.id}/deactivate", data={"q": "tess"})
    assert response.status_code == 302
    assert response.location == "/admin/users?q=tess"
    page = Page(admin_client.get(response.location))
    assert "Tess Target's account is deactivated and signed out everywhere." in page.main_text
    assert "Name Tess Target E-mail address tess.target@lthtr.nhs.uk" in page.main_text
    assert "Role Member Status Deactivated" in page.main_text
    assert not reloaded(tess).active

    entry = last_audit("admin.user_deactivated")
    assert (entry.actor_id, entry.subject_id) == (admin.id, tess.id)

    # Her open session has ended: the next request finds her signed out.
    response = tess_browser.get("/account")
    assert response.status_code == 302
    assert response.location.startswith("/login")

    # And she cannot sign in again.
    page = Page(tess_browser.post("/login", data={"email": tess.email, "password": PASSWORD}))
    assert page.status == 200
    assert "This account has been deactivated. Contact a network administrator." in page.main_text


def test_reactivating_an_account_lets_its_owner_sign_in_again(
    admin_client, admin, new_client, login, make_user
):
    dee = make_user("Dee Activated", active=False)
    page = Page(admin_client.get("/admin/users"))
    assert "Reactivate Dee Activated's account" in buttons(page)
    page = Page(admin_client.get(admin_client.post(f"/admin/users/{dee.id}/reactivate").location))
    assert "Dee Activated's account is active again." in page.main_text
    assert reloaded(dee).active
    entry = last_audit("admin.user_reactivated")
    assert (entry.actor_id, entry.subject_id) == (admin.id, dee.id)
    login(new_client(), dee)


def test_making_and_removing_an_administrator(admin_client, admin, new_client, login, people):
    sam = people["sam"]
    sam_browser = new_client()
    login(sam_browser, sam)
    assert sam_browser.get("/admin").status_code == 403

    page = Page(admin_client.get(admin_client.post(f"/admin/users/{sam.id}/make-admin").location))
    assert "Sam Smith is now a network administrator." in page.main_text
    assert reloaded(sam).site_role is SiteRole.admin
    entry = last_audit("admin.site_role_changed")
    assert (entry.actor_id, entry.subject_id) == (admin.id, sam.id)
    assert entry.detail == {"old": "member", "new": "admin"}
    assert sam_browser.get("/admin").status_code == 200

    page = Page(admin_client.get(admin_client.post(f"/admin/users/{sam.id}/remove-admin").location))
    assert "Sam Smith is no longer a network administrator." in page.main_text
    assert reloaded(sam).site_role is SiteRole.member
    assert last_audit("admin.site_role_changed").detail == {"old": "admin", "new": "member"}
    assert sam_browser.get("/admin").status_code == 403


def test_an_account_whose_address_is_not_confirmed_cannot_be_made_an_administrator(
    admin_client, make_user
):
    """Anyone may register any address: until its owner follows the link, the password may be
    a stranger's, who would become an administrator the day the owner confirms it."""
    unconfirmed = make_user("Una Confirmed", "una@nhs.net", confirmed=False)
    page = Page(admin_client.get("/admin/users"))
    assert "Make admin: Una Confirmed" not in buttons(page)
    page = Page(
        admin_client.get(admin_client.post(f"/admin/users/{unconfirmed.id}/make-admin").location)
    )
    assert "Una Confirmed has not confirmed their e-mail address yet" in page.main_text
    assert reloaded(unconfirmed).site_role is SiteRole.member
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action.startswith("admin."))) is None
    )


def test_administrators_cannot_deactivate_or_demote_themselves(admin_client, admin):
    page = Page(admin_client.get("/admin/users"))
    assert not [name for name in buttons(page) if "Ada Admin" in name]
    for action, message in [
        ("deactivate", "You cannot deactivate your own account"),
        ("remove-admin", "You cannot remove your own administrator role"),
    ]:
        response = admin_client.post(f"/admin/users/{admin.id}/{action}")
        page = Page(admin_client.get(response.location))
        assert message in page.main_text
        assert reloaded(admin).active and reloaded(admin).is_admin
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action.startswith("admin."))) is None
    )


def test_acting_on_an_unknown_account_is_not_found(admin_client):
    assert admin_client.post("/admin/users/999999/deactivate").status_code == 404


@pytest.mark.parametrize("action", ["remove-admin", "deactivate"])
def test_two_administrators_taking_each_others_role_at_once_leave_one(app, make_user, action):
    """Neither may take away their own role; done to each other at the same moment, one is
    refused (the other already took the refuser's role away), so the network keeps one."""
    first = make_user("First Admin", admin=True).id
    second = make_user("Second Admin", admin=True).id
    refusals: list[str] = []

    def take(actor_id: int, subject_id: int) -> None:
        actor, subject = db.session.get(User, actor_id), db.session.get(User, subject_id)
        try:
            if action == "deactivate":
                administration.set_active(actor, subject, False)
            else:
                administration.set_site_role(actor, subject, SiteRole.member)
        except accounts.AccountError as refusal:
            refusals.append(refusal.message)

    at_once(app, [lambda: take(first, second), lambda: take(second, first)])
    db.session.rollback()  # see what they committed, as the next request would
    admins = db.session.scalars(
        select(User).where(User.site_role == SiteRole.admin, User.active.is_(True))
    ).all()
    assert len(admins) == 1
    assert refusals == ["You are no longer a network administrator"]
