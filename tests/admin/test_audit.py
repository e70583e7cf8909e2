"""The network's audit log: who did what, newest first, filtered by the start of an action."""

from peerlearn.audit.services import record
from peerlearn.extensions import db
from tests.accounts.pages import Page


def rows(page: Page) -> int:
    return page.html.partition("<tbody")[2].count('<tr class="nhsuk-table__row">')


def test_the_audit_log_lists_admin_actions_with_who_did_them(admin_client, admin, make_user):
    tess = make_user("Tess Target")
    admin_client.post(f"/admin/users/{tess.id}/deactivate")
    admin_client.post("/admin/domains", data={"domain": "nhs.net"})

    page = Page(admin_client.get("/admin/audit"))
    assert page.h1 == "Audit log"
    text = page.main_text
    assert (
        "Ada Admin Allowed an e-mail domain admin.domain_allowed domain: nhs.net 127.0.0.1" in text
    )
    assert "Ada Admin Deactivated an account admin.user_deactivated Tess Target" in text
    assert text.index("admin.domain_allowed") < text.index("admin.user_deactivated")  # newest first
    assert "Ada Admin Signed in auth.signed_in Ada Admin" in text


def test_filtering_by_the_start_of_an_action(admin_client, admin, make_user, make_space):
    tess = make_user("Tess Target")
    admin_client.post(f"/admin/users/{tess.id}/make-admin")
    space = make_space("Flow Coaching SIG")
    admin_client.post(f"/admin/spaces/{space.id}/archive")

    page = Page(admin_client.get("/admin/audit?action=admin."))
    assert page.values["action"] == "admin."
    assert "Showing actions starting with admin." in page.main_text
    assert "admin.site_role_changed" in page.main_text
    assert "space.archived" not in page.main_text
    assert "auth.signed_in" not in page.main_text
    assert rows(page) == 1

    page = Page(admin_client.get("/admin/audit?action=space."))
    assert "Ada Admin Archived the space space.archived" in page.main_text
    assert "Flow Coaching SIG" in page.main_text  # the space column
    assert rows(page) == 1

    page = Page(admin_client.get("/admin/audit?action=%25"))  # a literal "%", not a wildcard
    assert rows(page) == 0
    assert "Nothing starting with % has been recorded." in page.main_text


def test_entries_without_an_actor_are_shown_as_the_system(admin_client):
    record("auth.sign_in_failed", email="someone@nhs.net")
    db.session.commit()
    page = Page(admin_client.get("/admin/audit?action=auth.sign_in_failed"))
    assert "System Failed to sign in auth.sign_in_failed email: someone@nhs.net" in page.main_text


def test_the_audit_log_is_paginated(admin_client, admin):
    for number in range(60):
        record("admin.test_entry", actor=admin, n=number)
    db.session.commit()
    first = Page(admin_client.get("/admin/audit?action=admin.test"))
    assert rows(first) == 50
    first_text = first.main_text + " "
    assert "n: 59 " in first_text and "n: 10 " in first_text and "n: 9 " not in first_text
    assert first.link("Next : Page 2 of 2") == "?action=admin.test&page=2"
    second = Page(admin_client.get("/admin/audit?action=admin.test&page=2"))
    assert rows(second) == 10
    assert "n: 9 " in second.main_text and "n: 0 " in second.main_text + " "


def test_a_page_past_the_end_shows_the_last_rather_than_that_nothing_was_recorded(
    admin_client, admin
):
    for number in range(55):
        record("admin.test_entry", actor=admin, n=number)
    db.session.commit()
    for query in ["page=9", "action=admin.test&page=9"]:
        page = Page(admin_client.get(f"/admin/audit?{query}"))
        assert "has been recorded" not in page.main_text
        assert "n: 0 " in page.main_text + " " and "n: 4 " in page.main_text + " "
        assert "n: 5 " not in page.main_text + " "  # on the first page of 50
