"""The project's own ``flask`` commands: create-admin, seed-demo, send-digests and
storage-check."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from peerlearn.accounts.models import SiteRole, User
from peerlearn.accounts.passwords import hash_password, password_problem
from peerlearn.accounts.services import find_user_by_email, make_handle, normalise_email
from peerlearn.audit.services import record
from peerlearn.config import DEFAULT_DEMO_PASSWORD
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from peerlearn.resources.storage import GRACE_SECONDS, check_storage, storage


@click.command("create-admin")
@click.option("--email", prompt="E-mail address", help="The administrator's e-mail address.")
@click.option("--name", prompt="Full name", help="The administrator's full name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 12 characters; prompted for when not given.",
)
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Create a network administrator, or make an existing account one (an account whose
    address was never confirmed gets this password: whoever registered it chose the old one)."""
    email = normalise_email(email)
    user = find_user_by_email(email)
    problem = password_problem(password, [email, name])
    if problem and (user is None or not user.email_confirmed):
        raise click.BadParameter(problem, param_hint="--password")
    if user is not None:
        if not user.email_confirmed:
            # Registering proves nothing until the link is followed: anyone may have typed this
            # address. The operator vouches for it, and the registrant's password must not
            # become an administrator's the day the owner follows a confirmation link.
            user.password_hash = hash_password(password)
            user.email_confirmed_at = utcnow()
        user.site_role = SiteRole.admin
        user.active = True
        record("admin.site_role_changed", subject=user, new="admin", via="create-admin")
        db.session.commit()
        click.echo(f"{email} is now a network administrator.")
        return
    user = User(
        email=email,
        display_name=name.strip(),
        handle=make_handle(name),
        password_hash=hash_password(password),
        site_role=SiteRole.admin,
        email_confirmed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    record("admin.user_created", subject=user, via="create-admin")
    db.session.commit()
    click.echo(f"Created network administrator {email}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Add the demo network (organisations, people, spaces, discussions, events); running it again
    adds nothing."""
    from peerlearn.demo import seed
    from peerlearn.search.indexing import deferred, reindex_all

    password = current_app.config.get("PEERLEARN_DEMO_PASSWORD")
    if not password or current_app.config["PEERLEARN_ENV"] == "production":
        raise click.ClickException("Demo data is refused in production.")
    with deferred():  # index once at the end, not after every demo post
        people = seed(password)
    reindex_all()
    users = {u.email: u for u in db.session.scalars(select(User))}
    shown = (
        password if password == DEFAULT_DEMO_PASSWORD else "the value of PEERLEARN_DEMO_PASSWORD"
    )
    click.echo(f"\nDemo accounts (password: {shown}):")
    for person in people:
        user = users[person.email]
        role = "network admin" if user.is_admin else user.job_title
        click.echo(f"  {person.email:<38} {user.display_name} ({role})")
    _echo_live_event()
    click.echo("")


def _echo_live_event() -> None:
    """Point a newcomer at the demo event whose chat is open now."""
    from peerlearn.accounts.services import external_url
    from peerlearn.demo_events import open_now_event

    event = open_now_event()
    if event is None:
        return
    click.echo(f'\nThe chat of "{event.title}" is open now:')
    click.echo(f"  {external_url('events.detail', event_id=event.id)}")
    click.echo(
        "  Try it in two browsers (or a normal and a private window), signed in as\n"
        "  kwame-mensah@peerlearn.example (moderator) and aisha-khan@peerlearn.example."
    )


@click.command("send-digests")
@with_appcontext
def send_digests() -> None:
    """E-mail the daily notification digests (run once a day, e.g. from cron)."""
    from peerlearn.notifications.emails import send_digests as send

    click.echo(f"Sent {send()} digest e-mail(s).")


@click.command("storage-check")
@click.option(
    "--remove", is_flag=True, help="Remove unreferenced files, unused rows and leftovers."
)
@click.option(
    "--grace-minutes",
    type=click.IntRange(min=0),
    default=GRACE_SECONDS // 60,
    show_default=True,
    help="Temporary and unreferenced files younger than this may belong to an upload in "
    "progress: they are listed as such, never reported as wrong or removed.",
)
@with_appcontext
def storage_check(remove: bool, grace_minutes: int) -> None:
    """Compare the library's stored files with the database: report unreferenced files, unused
    rows, rows whose files are missing and temporary files left by interrupted uploads (exit
    status 1 when something is wrong and was not removed). Uploads in progress are not wrong."""
    report = check_storage(storage(), remove=remove, grace_seconds=grace_minutes * 60)
    for item in report.in_progress:
        click.echo(f"in progress (younger than {grace_minutes} minutes), left alone: {item}")
    for sha256 in report.unreferenced_files:
        click.echo(f"unreferenced file: {sha256}")
    for sha256 in report.unused_rows:
        click.echo(f"unused row (no version uses it): {sha256}")
    for sha256 in report.missing_files:
        click.echo(f"missing file (restore it from a backup): {sha256}")
    for path in report.leftovers:
        click.echo(f"leftover temporary file: {path}")
    for item in report.removed:
        click.echo(f"removed {item}")
    if report.clean:
        click.echo("Storage and database agree.")
    elif report.missing_files or len(report.removed) < (
        len(report.unreferenced_files) + len(report.unused_rows) + len(report.leftovers)
    ):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    """Register the commands on ``flask --app peerlearn``."""
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)
    app.cli.add_command(send_digests)
    app.cli.add_command(storage_check)
