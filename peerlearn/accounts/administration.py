"""Network administrators' changes to accounts: deactivating and reactivating them, and giving
or taking away the administrator role. They happen one at a time (:func:`_hold_administrators`),
and what an account can no longer do ends in the same commit
(:data:`~peerlearn.core.signals.standing_changing`)."""

from sqlalchemy import select

from peerlearn.accounts.models import SiteRole, User
from peerlearn.accounts.services import AccountError
from peerlearn.audit.services import record
from peerlearn.core.db import hold
from peerlearn.core.signals import account_changed, standing_changing
from peerlearn.extensions import db


def _hold_administrators(actor: User) -> None:
    """Make administrators' changes to accounts happen one at a time (every active
    administrator's row held, :func:`~peerlearn.core.db.hold`), then refuse an actor who stopped
    being one meanwhile. Nobody can take away their own role, but two administrators taking
    each other's at the same moment would otherwise leave the network with none."""
    administrator = (User.site_role == SiteRole.admin) & User.active.is_(True)
    hold(db.session, User.site_role, administrator)
    if db.session.scalar(select(User.id).where(administrator, User.id == actor.id)) is None:
        raise AccountError("You are no longer a network administrator")


def _narrowed(user: User) -> None:
    """The account may do less once this unit of work commits (deactivated, or no longer an
    administrator): flush the change, and let what ends with it
    (:data:`~peerlearn.core.signals.standing_changing`) end in the same commit. A receiver's
    failure is raised, and the change rolled back with it."""
    db.session.flush()
    standing_changing.send(user, space=None)


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (ending all the user's sessions) or reactivate an account."""
    if user.id == actor.id and not active:
        raise AccountError("You cannot deactivate your own account")
    _hold_administrators(actor)
    if user.active == active:
        return
    user.active = active
    if not active:
        user.end_every_session()
    record(
        "admin.user_reactivated" if active else "admin.user_deactivated", actor=actor, subject=user
    )
    if not active:
        _narrowed(user)
    db.session.commit()
    account_changed.send(user)


def set_site_role(actor: User, user: User, role: SiteRole) -> None:
    """Make someone a network administrator, or take it away."""
    if user.id == actor.id and role is not SiteRole.admin:
        raise AccountError("You cannot remove your own administrator role")
    if role is SiteRole.admin and not user.email_confirmed:
        # Anyone may register any address: until its owner follows the link, the password may
        # be a stranger's, who would be an administrator the day the owner confirms it.
        raise AccountError(
            f"{user.display_name} has not confirmed their e-mail address yet. "
            "Make them an administrator once they have."
        )
    _hold_administrators(actor)
    if user.site_role is role:
        return
    old = user.site_role
    user.site_role = role
    record("admin.site_role_changed", actor=actor, subject=user, old=old.value, new=role.value)
    if old is SiteRole.admin:
        _narrowed(user)
    db.session.commit()
    account_changed.send(user)
