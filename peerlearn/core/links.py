"""Web addresses people enter for others to follow (a library link, an event's joining link): the
one rule for which are accepted, and the one way of showing where a link goes."""

from urllib.parse import urlsplit

import idna

# WTForms' own URL validator checks host names with this (labels, a top-level domain, or an IP
# address), for a form field; here it checks an address a service is given.
from wtforms.validators import HostnameValidation

#: An address to show in messages.
EXAMPLE = "https://www.england.nhs.uk/"

_real_host = HostnameValidation(require_tld=True, allow_ip=True)


def web_address_problem(url: str) -> str | None:
    """Why ``url`` cannot be accepted as a link for others to follow, in the words to show beside
    its field; None when it can. Accepted: an http or https address of a real host (a domain
    name with a top-level domain, or an IP address), without spaces, and without a name or
    password before the host: https://teams.microsoft.com@evil.example/ goes to evil.example,
    whatever it seems to say."""
    if any(character.isspace() for character in url):
        return f"Enter the web address without spaces, like {EXAMPLE}"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a port out of range, or not a number, raises ValueError
    except ValueError:  # one Python cannot take apart, like https://[meet.example.org
        return f"Enter the web address in the correct format, like {EXAMPLE}"
    if parts.scheme.lower() not in {"http", "https"} or not host:
        return (
            "Enter a web address starting https:// or http:// (other kinds of link, such as "
            "javascript:, are not allowed)"
        )
    if "@" in parts.netloc:
        return f"Enter the web address without a name and @ before the website, like {EXAMPLE}"
    if not _real_host(host) or link_host(url) is None:
        return f"Enter a web address with a real website name, like {EXAMPLE}"
    return None


def link_host(url: str | None) -> str | None:
    """The host a link really goes to (without "www."), shown beside it so that readers know
    where they are going; None for no link, or one that cannot be taken apart. A name with
    letters outside ASCII is shown as the address it is (``xn--…``), as browsers map it (UTS #46,
    non-transitional: ``faß.de`` is not ``fass.de``): ``еngland.nhs.uk`` with a Cyrillic "е"
    looks like the real site in any font. None for a name browsers refuse (a zero-width joiner
    between letters, say), which would otherwise show as another name."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if host and not host.isascii():
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError:
            return None
    return host.removeprefix("www.") if host else None
