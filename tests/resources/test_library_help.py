"""The library's help page: the rules a member needs before sharing anything."""


def test_the_help_page_explains_the_librarys_rules(client):
    response = client.get("/help/library")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for words in (
        "25 MB", "25 megapixels",  # the size limits
        "PDF", ".docx", ".xlsx", ".pptx", ".odt", "CSV", "PNG", "JPEG", "WebP",  # types
        "from its content, not its name",
        "Open Government Licence v3.0", "CC BY-NC 4.0", "Network members only — no onward sharing",
        "not for a consultancy",  # what a licence means
        "no patient-identifiable information", "OFFICIAL-SENSITIVE",  # the IG gate
        "hidden at once",  # flags
        "new version", "adapted from", "what did not work", "Print or save as PDF",
        "We're using this", "Discuss this resource",
        "Embedding improvement into management systems and processes", "quality assurance",
    ):  # fmt: skip
        assert words in page, words


def test_every_page_links_to_the_library(client):
    page = client.get("/about").get_data(as_text=True)
    assert 'href="/library"' in page
