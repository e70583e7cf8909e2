"""The resource library in a real browser: a member of one trust shares a Word template with its
filters set; a member of another trust finds it on the network library through those filters,
downloads it and gets exactly the bytes that were uploaded. Every page shown is checked with
axe-core."""

import re

import pytest
from playwright.sync_api import expect

from peerlearn.demo_files import Section, word_document

from .browser_support import DEMO_PASSWORD, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

A = "kwame-mensah@peerlearn.example"  # Royal Cornwall Hospitals, moderator of the QMS SIG
B = "hannah-price@peerlearn.example"  # University Hospitals Birmingham, not in the QMS SIG
TITLE = "Quality committee QMS assurance template"
FILENAME = "Quality committee – QMS assurance template.docx"


def test_a_shared_template_is_found_by_its_filters_and_downloaded_intact(
    new_context: NewContext,
) -> None:
    content = word_document(TITLE, [Section("Quality assurance", ["What the board relies on."])])

    # A shares the template in the QMS SIG's library with its type, component and licence.
    a = new_context().new_page()
    sign_in(a, A, DEMO_PASSWORD)
    a.goto("/spaces/qms/library")
    check_accessibility(a)
    a.get_by_role("link", name="Add a resource").click()
    expect(a.get_by_role("heading", level=1, name="Add a resource to the library")).to_be_visible()
    check_accessibility(a)
    a.locator("input[type=file]").set_input_files(
        files=[{"name": FILENAME, "mimeType": "application/octet-stream", "buffer": content}],
    )
    a.get_by_label("Title").fill(TITLE)
    a.get_by_label("Type", exact=True).select_option("template")
    a.get_by_label(re.compile("Embedding improvement into management systems")).check()
    a.get_by_label("Quality assurance").check()
    a.get_by_label("Open Government Licence v3.0").check()
    a.get_by_label("All network members").check()
    a.get_by_label("I confirm this contains no patient-identifiable information").check()
    a.get_by_role("button", name="Add to the library").click()
    expect(a.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    check_accessibility(a)

    # B, in another trust, filters the network library down to it.
    b = new_context(accept_downloads=True).new_page()
    sign_in(b, B, DEMO_PASSWORD)
    b.get_by_role("link", name="Library", exact=True).first.click()
    expect(b.get_by_role("heading", level=1, name="Resource library")).to_be_visible()
    check_accessibility(b)
    b.get_by_label("Type", exact=True).select_option("template")
    b.get_by_label("NHS IMPACT component").select_option("management-systems")
    b.get_by_label("Licence").select_option("ogl-3")
    b.get_by_role("button", name="Apply filters").click()
    expect(b).to_have_url(re.compile(r"type=template.*component=management-systems.*licence=ogl-3"))
    check_accessibility(b)
    expect(b.get_by_label("Licence")).to_have_value("ogl-3")  # the choices are kept
    results = b.locator(".pl-resource-list")
    expect(results.get_by_role("link", name=TITLE)).to_be_visible()
    expect(results).not_to_contain_text("Daily flow huddles")  # a guide, filtered out
    expect(results).to_contain_text("Royal Cornwall Hospitals NHS Trust")
    results.get_by_role("link", name=TITLE).click()
    expect(b.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    check_accessibility(b)

    with b.expect_download() as download_info:
        b.locator("#download").click()
    download = download_info.value
    assert download.suggested_filename == f"OFFICIAL_{FILENAME}"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == content


def test_a_case_study_is_written_read_printed_and_saved(new_context: NewContext) -> None:
    page = new_context().new_page()
    sign_in(page, "hannah-price@peerlearn.example", DEMO_PASSWORD)
    page.goto("/spaces/flow-coaching/library")
    check_accessibility(page)
    page.get_by_role("link", name="Write a case study").click()
    expect(page.get_by_role("heading", level=1, name="Write a case study")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Title").fill("Coaching huddles across a medical division")
    for label, text in [
        ("Context", "Four wards ran huddles; twelve did not."),
        ("Aim", "Every medical ward huddles daily by June."),
        ("Approach", "Coaches observed three huddles before giving feedback."),
        ("Results", "Eleven of twelve wards now huddle daily."),
    ]:
        page.get_by_label(label, exact=True).fill(text)
    page.get_by_label("Open Government Licence v3.0").check()
    page.get_by_label("All network members").check()
    page.get_by_role("button", name="Publish case study").click()
    # The declaration was missed: the error says so, and what was typed is kept.
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check_accessibility(page)
    expect(page.get_by_label("Results", exact=True)).to_have_value(
        "Eleven of twelve wards now huddle daily."
    )
    page.get_by_label("I confirm this contains no patient-identifiable information").check()
    page.get_by_role("button", name="Publish case study").click()
    expect(
        page.get_by_role("heading", level=1, name="Coaching huddles across a medical division")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="What did not work")).to_have_count(0)
    check_accessibility(page)
    page.get_by_role("button", name="Save this resource").click()
    check_accessibility(page)

    page.get_by_role("link", name="Print or save as PDF").click()
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    check_accessibility(page)
    page.goto("/library/saved")
    expect(
        page.get_by_role("link", name="Coaching huddles across a medical division")
    ).to_be_visible()
    check_accessibility(page)
    page.goto("/help/library")
    check_accessibility(page)
