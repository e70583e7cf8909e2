"""The resource library: QMS tools, templates, guides and case studies shared between systems."""

from flask import Blueprint

bp = Blueprint("resources", __name__)


def blueprint() -> Blueprint:
    """The blueprint with every view module's routes attached.

    The view modules are imported here rather than when the package is: the permission policy
    imports this package's models, and the views import the policy, so importing them with the
    package would make a cycle for whoever imports the policy first.
    """
    from peerlearn.resources import (  # noqa: F401
        browse_views,
        case_study_views,
        moderation_views,
        views,
    )

    return bp
