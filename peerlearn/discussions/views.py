"""Discussion pages: thread lists, starting a thread, the thread page, replying, editing."""

from datetime import timedelta

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from peerlearn.core.db import commit_keeping_loaded, utcnow
from peerlearn.core.errors import RuleError, render_error
from peerlearn.core.forms import show_error, single_line_breaks
from peerlearn.core.ids import to_id
from peerlearn.core.pagination import paginate
from peerlearn.core.signals import posts_read
from peerlearn.core.text import render_markdown
from peerlearn.discussions import following, fragments, marks, reading, removal, services
from peerlearn.discussions.forms import EditPostForm, ReplyForm, ThreadForm
from peerlearn.discussions.holds import BANNED
from peerlearn.discussions.models import FollowState, ImpactComponent, Post, Thread, ThreadKind
from peerlearn.extensions import db, limiter
from peerlearn.moderation.services import SLOW_MODE_OPTIONS
from peerlearn.permissions import (
    Action,
    authorize,
    banned_from,
    can,
    signed_in,
    space_or_404,
    visible_or_404,
)

bp = Blueprint("discussions", __name__)
# The post and row macros through the fragment cache (see fragments.py).
bp.add_app_template_global(fragments.post_article, "cached_post_article")
bp.add_app_template_global(fragments.thread_row, "cached_thread_row")


def _posting_limit() -> str:
    """Posting is rate-limited, more strictly for accounts younger than a day."""
    person = signed_in(current_user)
    if person is not None and utcnow() - person.created_at < timedelta(days=1):
        return "3 per minute;20 per day"
    return "10 per minute;200 per day"


def _poster_key() -> str:
    return f"post:{getattr(current_user, 'id', request.remote_addr)}"


def _previewing() -> bool:
    return request.form.get("action") == "preview"


def _posted(response: Response) -> bool:
    """Only what is posted counts towards the limit: a form sent back to fix it has not."""
    return response.status_code == 302


def _list_filters() -> dict[str, object]:
    component = request.args.get("component", "")
    only = request.args.get("show", "")
    return {
        "tag": request.args.get("tag", "")[:40] or None,
        "component": ImpactComponent(component) if component in set(ImpactComponent) else None,
        "only": reading.ThreadFilter(only) if only in set(reading.ThreadFilter) else None,
    }


# Lists -----------------------------------------------------------------------------------------


@bp.get("/spaces/<slug>/threads")
def space_threads(slug: str) -> str:
    space = space_or_404(slug)
    filters = _list_filters()
    page = paginate(reading.threads_query(current_user, space=space, **filters))  # type: ignore[arg-type]
    ids = [thread.id for thread in page.items]
    return render_template(
        "discussions/space_threads.html",
        space=space,
        page=page,
        filters=filters,
        tags=services.space_tags(current_user, space),
        components=list(ImpactComponent),
        unread=reading.unread_counts(current_user, ids),
        following_space=following.follows_space(current_user, space),
    )


@bp.get("/threads")
def latest() -> str:
    filters = _list_filters()
    page = paginate(reading.threads_query(current_user, **filters))  # type: ignore[arg-type]
    ids = [thread.id for thread in page.items]
    return render_template(
        "discussions/latest.html",
        page=page,
        filters=filters,
        unread=reading.unread_counts(current_user, ids),
    )


# Starting a thread -----------------------------------------------------------------------------


@bp.route("/spaces/<slug>/threads/new", methods=["GET", "POST"])
@login_required
@limiter.limit(_posting_limit, key_func=_poster_key, methods=["POST"], exempt_when=_previewing,
               deduct_when=_posted)  # fmt: skip
def new_thread(slug: str) -> str | Response | tuple[str, int]:
    space = space_or_404(slug)
    if banned_from(current_user, space):
        return render_error(403, f"{BANNED}.")
    authorize(Action.post, space)
    form = ThreadForm()
    preview = None
    unreachable: list[object] = []
    if form.validate_on_submit():
        if _previewing():
            preview = services.render_post(form.body.data, space)
            unreachable = preview.unreachable
        else:
            try:
                thread, rendered = services.start_thread(
                    current_user,
                    space,
                    services.ThreadDraft(
                        title=form.title.data,
                        body=form.body.data,
                        kind=ThreadKind(form.kind.data),
                        components=tuple(ImpactComponent(c) for c in form.components.data or []),
                        tags=tuple(services.parse_tags(form.tags.data or "")),
                        submission_key=form.submission_key.data or None,
                    ),
                )
            except services.DiscussionError as error:
                show_error(form, error)
            else:
                _tell_about_unreachable(rendered.unreachable)
                return redirect(url_for("discussions.thread", thread_id=thread.id))
    return render_template(
        "discussions/new_thread.html", space=space, form=form, preview=preview,
        unreachable=unreachable,
    )  # fmt: skip


def _tell_about_unreachable(people: list[object]) -> None:
    if people:
        names = ", ".join(person.display_name for person in people)  # type: ignore[attr-defined]
        flash(
            f"{names} cannot see or take part in this space, "
            "so they were not notified of your mention.",
            "info",
        )


# Reading a thread ------------------------------------------------------------------------------


@bp.get("/threads/<int:thread_id>")
@bp.get("/threads/<int:thread_id>/<slug>")
def thread(thread_id: int, slug: str | None = None) -> str:
    thread = visible_or_404(Thread, thread_id)
    opening = reading.opening_post(thread)
    roots = paginate(reading.roots_query(thread), per_page=reading.ROOTS_PER_PAGE)
    posts = reading.posts_under(thread, [root.id for root in roots.items])
    shown = [opening, *posts] if roots.page == 1 else posts
    read_before = reading.read_positions(current_user, [thread.id]).get(thread.id, 0)
    reader = signed_in(current_user._get_current_object())  # type: ignore[attr-defined]
    if reader is not None:  # before rendering: the header counts what these posts leave unread
        read = [post.id for post in shown if not post.removed]  # not a placeholder's
        if any(wrote for _, wrote in posts_read.send(reader, post_ids=read)):
            commit_keeping_loaded(db.session())
    page = render_template(
        "discussions/thread.html",
        thread=thread,
        opening=opening,
        posts=posts,
        roots=roots,
        read_before=read_before,
        helpful=marks.helpful_marked_by(current_user, shown),
        follow_state=following.thread_follow_state(current_user, thread),
        reply_form=ReplyForm(),
        max_depth=reading.MAX_VISUAL_DEPTH,
        slow_mode_options=SLOW_MODE_OPTIONS,
        banned=banned_from(current_user, thread.space),
    )
    # Recorded after rendering: the commit would otherwise expire every post on the page.
    newest = max((post.id for post in shown), default=0)
    if reader is not None and newest > read_before:  # a write only when there is news
        reading.mark_seen(
            reader,
            thread,
            newest,
            read_before=read_before,
            shown=reading.shown_on_page(roots.page, [root.id for root in roots.items]),
        )
    return page


@bp.get("/threads/<int:thread_id>/unread")
@login_required
def first_unread(thread_id: int) -> Response:
    thread = visible_or_404(Thread, thread_id)
    post_id = reading.first_unread_post_id(current_user, thread)
    if post_id is None:
        return redirect(url_for("discussions.thread", thread_id=thread.id))
    return redirect(url_for("discussions.permalink", thread_id=thread.id, post_id=post_id))


@bp.get("/threads/<int:thread_id>/posts/<int:post_id>")
def permalink(thread_id: int, post_id: int) -> Response:
    """Where a post is in its thread, for anyone who may read the thread: the thread page shows
    each post, or its placeholder when it was removed or hidden (whose own link leads here)."""
    thread = visible_or_404(Thread, thread_id)
    post = db.get_or_404(Post, post_id)
    if post.thread_id != thread.id:
        abort(404)
    page = reading.page_of(post)
    return redirect(
        url_for("discussions.thread", thread_id=thread_id, page=page if page > 1 else None)
        + f"#post-{post.id}"
    )


# Replying --------------------------------------------------------------------------------------


#: The longest selection a reader may quote (longer ones quote the whole post).
MAX_SELECTION = 5_000


def _quote(post: Post, selection: str = "") -> str:
    """A Markdown quote with an attribution line: the reader's selection, or the whole post."""
    who = post.author.display_name if post.author else "A former member"
    text = selection.strip() if 0 < len(selection.strip()) <= MAX_SELECTION else post.body_source
    quoted = "\n".join(f"> {line}" for line in text.strip().splitlines())
    return f"{who} wrote:\n{quoted}\n\n"


@bp.route("/threads/<int:thread_id>/reply", methods=["GET", "POST"])
@login_required
@limiter.limit(_posting_limit, key_func=_poster_key, methods=["POST"], exempt_when=_previewing,
               deduct_when=_posted)  # fmt: skip
def reply(thread_id: int) -> str | Response | tuple[str, int]:
    thread = visible_or_404(Thread, thread_id)
    if (
        thread.locked
        and not can(current_user, Action.post, thread)
        and can(current_user, Action.post, thread.space)
    ):
        return render_error(403, "This thread is locked: nobody can reply to it.")
    if banned_from(current_user, thread.space):
        return render_error(403, f"{BANNED}.")
    authorize(Action.post, thread)
    form = ReplyForm()
    parent_id = (
        form.parent_id.data if request.method == "POST" else request.args.get("to", type=to_id)
    )
    # A posted value the form could not read as an id stays text, and fails validation.
    parent = db.session.get(Post, parent_id) if isinstance(parent_id, int) else None
    if request.method == "GET":
        # Said now, rather than once the reply is written: the post it answers is gone, hidden
        # from this reader, or not in this thread (its placeholder is all they may quote).
        problem = _unanswerable(thread, parent) if "to" in request.args else None
        if problem:
            flash(f"{problem}. You can reply to the thread instead.", "error")
            return redirect(url_for("discussions.thread", thread_id=thread.id))
        form.parent_id.data = parent.id if parent else ""
        if parent is not None and request.args.get("quote"):
            form.body.data = _quote(parent, request.args.get("selection", ""))
    preview = None
    if form.validate_on_submit():
        if _previewing():
            preview = services.render_post(form.body.data, thread.space, thread)
        else:
            try:
                post, rendered = services.reply(
                    current_user,
                    thread,
                    form.body.data,
                    parent=parent,
                    submission_key=form.submission_key.data or None,
                )
            except services.DiscussionError as error:
                show_error(form, error)
            else:
                _tell_about_unreachable(rendered.unreachable)
                return redirect(
                    url_for("discussions.permalink", thread_id=thread.id, post_id=post.id)
                )
    # Show the post being answered only if it belongs here and the reader may see it.
    shown = parent if parent is not None and parent.thread_id == thread.id else None
    if shown is not None and not can(current_user, Action.view, shown):
        shown = None
    return render_template(
        "discussions/reply.html", thread=thread, form=form, parent=shown, preview=preview
    )


def _unanswerable(thread: Thread, parent: Post | None) -> str | None:
    """Why the reader cannot reply to ``parent`` in the thread (None: they can)."""
    if parent is None or parent.thread_id != thread.id:
        return services.NOT_IN_THREAD
    if parent.removed or not can(current_user, Action.view, parent):
        return services.PARENT_REMOVED
    return None


@bp.post("/preview")
@login_required
def preview() -> Response:
    """Live preview for the JavaScript editor: the same pipeline, not stored. Given the thread
    (``?thread=``) or space (``?space=``) being written in, mentions are linked as they will be
    when posted."""
    body = single_line_breaks(request.form.get("body", ""))[: services.MAX_BODY]
    thread_id = request.args.get("thread", type=to_id)
    thread = visible_or_404(Thread, thread_id) if thread_id else None
    slug = request.args.get("space")
    space = thread.space if thread is not None else space_or_404(slug) if slug else None
    if space is None:
        return jsonify({"html": render_markdown(body)})
    return jsonify({"html": services.render_post(body, space, thread).html})


# Editing, history, removing --------------------------------------------------------------------


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int) -> str | Response:
    post = visible_or_404(Post, post_id)
    authorize(Action.edit, post)
    opening = post.root_id is None
    form = EditPostForm(
        data=None
        if request.method == "POST"
        else {
            "body": post.body_source,
            "title": post.thread.title if opening else "",
            "based_on": services.post_version(post),
        }
    )
    changed_meanwhile = False
    preview = None
    if form.validate_on_submit():
        if _previewing():
            preview = services.render_post(form.body.data, post.thread.space, post.thread)
        else:
            try:
                rendered = services.edit_post(
                    current_user, post, form.body.data, title=form.title.data if opening else None,
                    based_on=form.based_on.data or None,
                )  # fmt: skip
            except services.EditConflict as error:
                # Their version is shown; saving again from here keeps the editor's text over it.
                show_error(form, error)
                form.based_on.data = services.post_version(post)
                changed_meanwhile = True
            except RuleError as error:
                show_error(form, error)
            else:
                flash("Your changes have been saved.", "success")
                _tell_about_unreachable(rendered.unreachable)
                return redirect(
                    url_for("discussions.permalink", thread_id=post.thread_id, post_id=post.id)
                )
    return render_template(
        "discussions/edit.html",
        post=post, form=form, opening=opening, changed_meanwhile=changed_meanwhile,
        preview=preview,
    )  # fmt: skip


@bp.get("/posts/<int:post_id>/history")
def history(post_id: int) -> str:
    post = visible_or_404(Post, post_id)
    return render_template(
        "discussions/history.html", post=post, revisions=services.revisions(post)
    )


@bp.post("/posts/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> Response:
    post = visible_or_404(Post, post_id)
    authorize(Action.delete, post)
    try:
        removal.delete_post(current_user, post)
    except RuleError as error:
        flash(error.message, "error")
    else:
        flash("The post has been removed.", "success")
    return redirect(url_for("discussions.permalink", thread_id=post.thread_id, post_id=post.id))


@bp.post("/posts/<int:post_id>/helpful")
@login_required
def helpful(post_id: int) -> Response:
    post = visible_or_404(Post, post_id)
    authorize(Action.mark_helpful, post)
    try:
        marks.set_helpful(current_user, post, request.form.get("helpful") != "no")
    except services.DiscussionError as error:
        flash(error.message, "error")
    return redirect(url_for("discussions.permalink", thread_id=post.thread_id, post_id=post.id))


@bp.post("/posts/<int:post_id>/solution")
@login_required
def solution(post_id: int) -> Response:
    post = visible_or_404(Post, post_id)
    authorize(Action.mark_solved, post)
    clear = request.form.get("clear") == "yes" and post.thread.solved_post_id == post.id
    try:
        marks.set_solution(current_user, post.thread, None if clear else post)
    except services.DiscussionError as error:
        flash(error.message, "error")
    else:
        flash("Answer cleared." if clear else "Marked as the answer.", "success")
    return redirect(url_for("discussions.permalink", thread_id=post.thread_id, post_id=post.id))


# Following and reading -------------------------------------------------------------------------


@bp.post("/threads/<int:thread_id>/follow")
@login_required
def follow_thread(thread_id: int) -> Response:
    thread = visible_or_404(Thread, thread_id)
    choice = request.form.get("state", "")
    state = FollowState(choice) if choice in set(FollowState) else None
    if state is FollowState.following:
        authorize(Action.follow, thread)
    try:
        following.set_thread_following(current_user, thread, state)
    except services.DiscussionError as error:
        flash(error.message, "error")
    else:
        flash(
            {
                FollowState.following: "You are following this thread.",
                FollowState.muted: "You have muted this thread: no notifications from it.",
                None: "You will be notified about this thread only when it involves you.",
            }[state],
            "success",
        )
    return redirect(url_for("discussions.thread", thread_id=thread.id))


@bp.post("/spaces/<slug>/follow")
@login_required
def follow_space(slug: str) -> Response:
    space = space_or_404(slug)
    wanted = request.form.get("following") == "yes"
    if wanted:
        authorize(Action.follow, space)
    try:
        following.set_space_following(current_user, space, wanted)
    except services.DiscussionError as error:
        flash(error.message, "error")
    else:
        flash(
            f"You will be notified of new threads in {space.name}."
            if wanted
            else f"You no longer follow {space.name}.",
            "success",
        )
    return redirect(url_for("discussions.space_threads", slug=space.slug))


@bp.post("/spaces/<slug>/read")
@login_required
def mark_space_read(slug: str) -> Response:
    space = space_or_404(slug)
    reading.mark_space_read(current_user, space)
    flash(f"Everything in {space.name} is marked as read.", "success")
    return redirect(url_for("discussions.space_threads", slug=space.slug))


@bp.get("/help/discussions")
def help_page() -> str:
    """How discussions work, for members and moderators."""
    return render_template("discussions/help.html", components=list(ImpactComponent))
