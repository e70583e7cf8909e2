"""Web addresses entered for others to follow: which are accepted, and the host shown beside a
link, which is where it really goes."""

import pytest

from peerlearn.core.links import link_host, web_address_problem

ACCEPTED = [
    ("https://meet.example.org/qms", "meet.example.org"),
    ("http://www.england.nhs.uk/nhsimpact/?a=b#c", "england.nhs.uk"),
    ("HTTPS://TEAMS.MICROSOFT.COM/l/meetup-join/19%3ameeting", "teams.microsoft.com"),
    ("https://meet.example.org:8443/qms", "meet.example.org"),
    ("https://bücher.example/", "xn--bcher-kva.example"),  # as the address it is: see below
    ("https://192.0.2.10/call", "192.0.2.10"),
    ("https://[2001:db8::1]/call", "2001:db8::1"),
    ("https://example.org/people/@qms", "example.org"),  # an @ after the host is only a path
]

REFUSED = [
    ("https://teams.microsoft.com@evil.example/join", "without a name and @"),
    ("https://user:secret@meet.example.org/", "without a name and @"),
    ("https://:secret@meet.example.org/", "without a name and @"),
    ("http://x y", "without spaces"),
    ("https://meet.example.org/my call", "without spaces"),
    ("https://meet.example\t.org/", "without spaces"),
    ("https://localhost/", "a real website name"),
    ("https://meet..example.org/", "a real website name"),
    ("https://meet_example/", "a real website name"),
    ("https://-meet.example.org/", "a real website name"),
    ("https://meet.example.org:99999/", "in the correct format"),
    ("https://meet.example.org:port/", "in the correct format"),
    ("https://[meet.example.org/qms", "in the correct format"),
    ("javascript:alert(1)", "starting https:// or http://"),
    ("ftp://files.example.org/", "starting https:// or http://"),
    ("meet.example.org/qms", "starting https:// or http://"),
    ("https://", "starting https:// or http://"),
]


@pytest.mark.parametrize(("url", "host"), ACCEPTED)
def test_an_http_address_of_a_real_host_is_accepted_and_shown_by_its_host(url, host):
    assert web_address_problem(url) is None
    assert link_host(url) == host


@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_other_addresses_are_refused_saying_what_to_do(url, message):
    problem = web_address_problem(url)
    assert problem is not None and message in problem
    assert problem.startswith("Enter ")


def test_the_host_shown_is_the_one_the_link_goes_to():
    assert link_host("https://teams.microsoft.com@evil.example/join") == "evil.example"
    assert link_host("https://[meet.example.org/qms") is None
    assert link_host(None) is None and link_host("") is None


def test_a_host_with_letters_outside_ascii_is_shown_as_the_address_it_is():
    # The "е" is Cyrillic: in any font, the name looks like the real site's.
    assert link_host("https://www.\u0435ngland.nhs.uk/") == "xn--ngland-2of.nhs.uk"
    # As browsers map names: "faß.de" is not "fass.de", another site.
    assert link_host("https://fa\u00df.de/") == "xn--fa-hia.de"
    # A zero-width joiner between letters would show as "ab.example": refused.
    assert link_host("https://a\u200db.example/") is None
    assert "real website name" in web_address_problem("https://a\u200db.example/")
