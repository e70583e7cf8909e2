"""The one text pipeline for user-written text: Markdown, then HTML, then the nh3 allow-list.

Text is rendered once, when it is written, and the clean HTML is stored beside its source.
Templates print the stored HTML through the ``user_html`` filter, the only place that marks it safe.
"""

from typing import Final

import nh3
from markdown_it import MarkdownIt
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

# CommonMark with raw HTML switched off; bare URLs become links; images are not a thing.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    .enable(["linkify", "table", "strikethrough"])
    .disable("image")
)


def sanitise_html(html: str) -> str:
    """Clean HTML against the allow-list: safe tags, http/https/mailto links, ``rel`` forced."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Render user Markdown to sanitised HTML, ready to store."""
    return sanitise_html(_markdown.render(source or ""))


def user_html(stored_html: str | None) -> Markup:
    """Mark stored, already-sanitised HTML as safe for a template (the ``user_html`` filter)."""
    return Markup(stored_html or "")  # noqa: S704 - only ever given the pipeline's output
