"""The resource library in a real browser: a member of one trust shares a Word template with its
filters set; a member of another trust finds it on the network library through those filters,
downloads it and gets exactly the bytes that were uploaded. Every page shown is checked with
axe-core."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from peerlearn.demo_files import Section, word_document

from .browser_support import DEMO_PASSWORD, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

A = "kwame-mensah@peerlearn.example"  # Royal Cornwall Hospitals, moderator of the QMS SIG
B = "hannah-price@peerlearn.example"  # University Hospitals Birmingham, not in the QMS SIG
TITLE = "Quality committee QMS assurance template"
FILENAME = "Quality committee – QMS assurance template.docx"


def _share_as(page: Page, title: str, kind: str, visibility: str) -> None:
    """Finish the sharing form (its file and title filled in) under the Open Government Licence,
    and send it: the resource's page opens."""
    page.get_by_label("Type", exact=True).select_option(kind)
    page.get_by_label("Open Government Licence v3.0").check()
    page.get_by_label(visibility).check()
    page.get_by_label("I confirm this contains no patient-identifiable information").check()
    page.get_by_role("button", name="Add to the library").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


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


def test_the_upload_form_tells_every_problem_at_once_without_javascript(
    new_context: NewContext,
) -> None:
    """A member who forgets the file, the title and the declaration, and marks sensitive material
    for the whole network, is told all four in one round, each linked from the summary to its
    field, with what they typed kept; one more round then shares it."""
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, A, DEMO_PASSWORD)
    page.goto("/spaces/qms/library/new")
    check_accessibility(page)
    summary_text = "The questions our quality committee asks of every service line."
    page.get_by_label("Summary (optional)").fill(summary_text)
    page.get_by_label("Type", exact=True).select_option("template")
    page.get_by_label("Tags (optional)").fill("quality committee, assurance")
    page.get_by_label("Open Government Licence v3.0").check()
    page.get_by_label("OFFICIAL-SENSITIVE", exact=True).check()
    page.get_by_label("All network members").check()
    page.get_by_role("button", name="Add to the library").click()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    links = summary.get_by_role("link")
    expect(links).to_have_text(
        [
            "Select a file to upload",
            "Enter a title",
            re.compile(r"OFFICIAL-SENSITIVE material can only be shared with this space's members"),
            "Confirm that the resource contains no patient-identifiable information",
        ]
    )
    check_accessibility(page)
    for index, field in enumerate(["#file", "#title", "#visibility", "#pii_declaration"]):
        expect(links.nth(index)).to_have_attribute("href", field)
        # Each links to its field, whose own error message says the same.
        expect(page.locator(field)).to_have_count(1)
        expect(page.locator(f"{field}-error")).to_contain_text(links.nth(index).inner_text())
    expect(page.get_by_label("Summary (optional)")).to_have_value(summary_text)
    expect(page.get_by_label("Type", exact=True)).to_have_value("template")
    expect(page.get_by_label("Tags (optional)")).to_have_value("quality committee, assurance")
    expect(page.get_by_label("Open Government Licence v3.0")).to_be_checked()
    expect(page.get_by_label("OFFICIAL-SENSITIVE", exact=True)).to_be_checked()
    expect(page.get_by_label("All network members")).to_be_checked()

    title = "Service line quality committee questions"
    content = word_document(title, [Section("Questions", ["What assures you of safe care?"])])
    page.locator("input[type=file]").set_input_files(
        files=[
            {"name": "Questions.docx", "mimeType": "application/octet-stream", "buffer": content}
        ],
    )
    page.get_by_label("Title").fill(title)
    page.get_by_label("Members of this space").check()
    page.get_by_label("I confirm this contains no patient-identifiable information").check()
    page.get_by_role("button", name="Add to the library").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    check_accessibility(page)


def test_a_moderator_withdraws_one_version_without_javascript(new_context: NewContext) -> None:
    """A moderator shares a file and uploads a second version (declaring it, as every version
    is); version 2 turns out to name patients, so they withdraw it alone, confirming on a page
    that needs no JavaScript (restoring it is offered the same way, and declined). A member then
    downloads version 1 by default, and cannot reach version 2; the narrow screen still reflows
    with the moderators' column."""
    title = "Ward safety huddle sheet"
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, A, DEMO_PASSWORD)
    page.goto("/spaces/qms/library/new")
    check_accessibility(page)
    first = word_document(title, [Section("Huddle", ["Who is at risk today?"])])
    second = word_document(title, [Section("Huddle", ["Bed 4: J. Smith, NHS 943 476 5919"])])
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "huddle.docx", "mimeType": "application/octet-stream", "buffer": first}]
    )
    page.get_by_label("Title").fill(title)
    _share_as(page, title, "template", "All network members")
    check_accessibility(page)
    resource_path = urlsplit(page.url).path

    page.get_by_role("link", name="Upload a new version").click()
    check_accessibility(page)
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "huddle.docx", "mimeType": "application/octet-stream", "buffer": second}]
    )
    page.get_by_label("What changed").fill("Added today's patients")
    page.get_by_label("I confirm this version contains no patient-identifiable information").check()
    page.get_by_role("button", name="Upload version").click()
    expect(page.locator("#declaration")).to_contain_text("that version 2 contains no")
    check_accessibility(page)

    page.get_by_role("link", name="Withdraw version 2").click()
    expect(page.get_by_role("heading", level=1, name="Withdraw version 2?")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Why (optional)").fill("Names a patient")
    page.get_by_role("button", name="Withdraw version 2").click()
    expect(page.get_by_text("Version 2 has been withdrawn")).to_be_visible()
    expect(page.locator("#declaration")).to_contain_text("that version 1 contains no")
    check_accessibility(page)
    # Restoring it is offered, after a page that asks to confirm; the moderator keeps it withdrawn.
    page.get_by_role("link", name="Restore version 2").click()
    expect(page.get_by_role("heading", level=1, name="Restore version 2?")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Keep it withdrawn").click()
    expect(page.locator("#declaration")).to_contain_text("that version 1 contains no")
    check_accessibility(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert (
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        == 0
    )

    member = new_context(accept_downloads=True).new_page()
    sign_in(member, B, DEMO_PASSWORD)
    member.goto(resource_path)
    check_accessibility(member)
    versions = member.locator("table").filter(has_text="What changed")
    expect(versions).to_contain_text("Withdrawn by a moderator")
    expect(versions.get_by_role("link", name=re.compile("Version 2"))).to_have_count(0)
    with member.expect_download() as download_info:
        member.locator("#download").click()
    with open(download_info.value.path(), "rb") as downloaded:
        assert downloaded.read() == first
    assert member.goto(f"{resource_path}/versions/2/download").status == 404
    check_accessibility(member)


def test_a_file_over_the_limit_is_refused_as_it_is_chosen_and_nothing_typed_is_lost(
    new_context: NewContext,
) -> None:
    """A member who has filled in the form chooses a file over the limit (2 MB in the served app,
    25 MB by default): it is refused at
    once, in the server's words, beside the field, and the choice is cleared (sent, a file well
    over the limit would make the server refuse the whole request). Choosing a file within the
    limit takes the message away, and the resource is shared with everything typed before."""
    page = new_context(signed_in_as=A).new_page()
    page.goto("/spaces/qms/library/new")
    check_accessibility(page)
    title = "Board quality report, full pack"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary (optional)").fill("Every appendix, as the board saw it.")

    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "Board pack.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.7\n" + bytes(2 * 1024 * 1024),
            }
        ]
    )
    field = page.locator(".nhsuk-form-group").filter(has=page.locator("input[type=file]"))
    expect(field.locator(".nhsuk-error-message")).to_have_text(
        "Error: The file must be 2 MB or smaller"
    )
    expect(field).to_have_class(re.compile("nhsuk-form-group--error"))
    expect(page.get_by_role("button", name=re.compile("^File"))).to_have_accessible_description(
        re.compile("The file must be 2 MB or smaller")
    )
    expect(field).to_contain_text("No file chosen")
    assert page.locator("input[type=file]").evaluate("input => input.files.length") == 0
    check_accessibility(page)

    content = word_document(title, [Section("Appendices", ["A: the ward dashboard."])])
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "pack.docx", "mimeType": "application/octet-stream", "buffer": content}]
    )
    expect(field.locator(".nhsuk-error-message")).to_have_count(0)
    expect(field).not_to_have_class(re.compile("nhsuk-form-group--error"))
    _share_as(page, title, "report", "Members of this space")
    expect(page.get_by_text("Every appendix, as the board saw it.")).to_be_visible()
    check_accessibility(page)
