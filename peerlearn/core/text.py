"""The one text pipeline for user-written text: Markdown, then HTML, then the nh3 allow-list.

Text is rendered once, when it is written, and the clean HTML is stored beside its source.
Templates print the stored HTML through the ``user_html`` filter (``email_html`` in an e-mail), the
only places that mark it safe.

Mentions are part of the pipeline: ``@handle`` or ``@[Full Name]`` outside code becomes a link to the
member's profile when the caller resolves it (see :func:`mention_keys` and :func:`render_markdown`).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markupsafe import Markup

#: Tags a rendered post may contain. No images: they would let a post track its readers.
ALLOWED_TAGS: Final = frozenset(
    {
        "a", "abbr", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: Final = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
LINK_REL: Final = "nofollow ugc noopener"
#: The only class a post may carry: the one our mention links get.
ALLOWED_CLASSES: Final = {"a": {"pl-mention"}}

#: ``@handle`` (in any case: handles are lower case, ``@Owen-Davies`` is ``@owen-davies``) or
#: ``@[Full Name]``.
MENTION_PATTERN = re.compile(r"@(?:([a-z0-9][a-z0-9-]{0,39})|\[([^\[\]\n]{1,120})\])", re.I)


@dataclass(frozen=True)
class MentionTarget:
    """Where a resolved mention points."""

    handle: str
    display_name: str


def fold_name(name: str | None) -> str:
    """A name as mentions match it: case-folded, with runs of spaces made one."""
    return " ".join((name or "").split()).casefold()[:120]


def mention_key(raw_handle: str | None, raw_name: str | None) -> str:
    """The lookup key of a mention: its handle, or ``name:`` and the folded full name."""
    if raw_handle:
        return raw_handle.rstrip("-").lower()
    return "name:" + fold_name(raw_name)


def _mention_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "@" or state.linkLevel > 0:
        return False  # not a mention, or inside a link's text (a link in a link splits it)
    if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "._-+"):
        return False  # part of an e-mail address or a word
    match = MENTION_PATTERN.match(state.src, state.pos)
    if match is None:
        return False
    key = mention_key(match.group(1), match.group(2))
    collecting = "mention_keys" in state.env  # collecting, not rendering
    target = (state.env.get("mentions") or {}).get(key)
    if target is None and not collecting:
        return False
    if collecting:
        if not silent:
            state.push("mention", "", 0).meta = {"key": key}
    elif not silent:
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": f"/people/{target.handle}", "class": "pl-mention"}
        text = state.push("text", "", 0)
        text.content = "@" + target.display_name
        state.push("link_close", "a", -1)
    end = match.end()
    if match.group(1):  # a handle ends before any trailing hyphen ("@jo-" is "@jo" then "-")
        end = state.pos + 1 + len(key)
    state.pos = end
    return True


# CommonMark with raw HTML switched off; bare URLs become links; images are not a thing.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    .enable(["linkify", "table", "strikethrough"])
    .disable("image")
)
_markdown.inline.ruler.before("linkify", "mention", _mention_rule)


#: ASCII punctuation: CommonMark lets a backslash make any of it a literal character.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    """Plain text (a name, a title) to put inside Markdown we write, so it shows as typed and
    never becomes a link, formatting or a mention in the result."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def sanitise_html(html: str) -> str:
    """Clean HTML against the allow-list: safe tags, http/https/mailto links, ``rel`` forced."""
    return _sanitise(html)


def _sanitise(html: str, **options: object) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        allowed_classes={tag: set(classes) for tag, classes in ALLOWED_CLASSES.items()},
        strip_comments=True,
        **options,
    )


def mention_keys(source: str, *, quoted: bool = True) -> set[str]:
    """The mention keys written in ``source`` outside code, for the caller to resolve; with
    ``quoted=False``, only those outside quotes (``> …``): the people the writer mentions, as
    opposed to those mentioned in what they quote, who are linked but not told again."""
    tokens = _markdown.parse(source or "", {"mention_keys": True})
    keys: set[str] = set()
    depth = 0
    for token in tokens:
        if token.type == "blockquote_open":
            depth += 1
        elif token.type == "blockquote_close":
            depth -= 1
        elif token.type == "inline" and (quoted or depth == 0):
            keys.update(
                child.meta["key"] for child in token.children or [] if child.type == "mention"
            )
    return keys


def render_markdown(source: str, mentions: Mapping[str, MentionTarget] | None = None) -> str:
    """Render user Markdown to sanitised HTML, ready to store; resolved mentions become links."""
    return sanitise_html(_markdown.render(source or "", {"mentions": dict(mentions or {})}))


def user_html(stored_html: str | None) -> Markup:
    """Mark stored, already-sanitised HTML as safe for a template (the ``user_html`` filter)."""
    return Markup(stored_html or "")  # noqa: S704 - only ever given the pipeline's output


def email_html(stored_html: str | None, base_url: str) -> Markup:
    """Stored HTML for an e-mail: :func:`user_html`, with links to the site's own pages (a
    mention's "/people/…", a Markdown link to "/threads/12") given ``base_url`` in front, as a
    mail client has no page to resolve a path against. Cleaned again by the same allow-list."""

    def absolute(tag: str, attribute: str, value: str) -> str:
        # A path only: "//host/…" already names its host.
        if tag == "a" and attribute == "href" and value[:1] == "/" and value[:2] != "//":
            return base_url + value
        return value

    return Markup(_sanitise(stored_html or "", attribute_filter=absolute))  # noqa: S704
