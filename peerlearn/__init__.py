"""peerlearn: a peer-learning network for NHS improvement leaders."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, PackageLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from peerlearn import config as configuration
from peerlearn.core import deferred
from peerlearn.core.ids import IdConverter
from peerlearn.extensions import csrf, db, limiter, login_manager, migrate, socketio

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings from the environment, then ``config`` on top."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.response_class = deferred.Response
    app.config.update(configuration.from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    configuration.check(app.config)

    if app.config["PEERLEARN_PROXY_COUNT"]:
        count = app.config["PEERLEARN_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )

    # Every <int:…> in a route is a row id or a version number: bounded like the columns.
    app.url_map.converters["int"] = IdConverter
    _init_templates(app)
    _import_models()
    _import_socket_handlers()
    _init_extensions(app)
    _register_features(app)
    return app


def _import_models() -> None:
    """Import every feature's models, so the metadata (and Alembic) knows every table."""
    import peerlearn.accounts.models
    import peerlearn.audit.models
    import peerlearn.discussions.models
    import peerlearn.events.models
    import peerlearn.moderation.models
    import peerlearn.notifications.models
    import peerlearn.organisations.models
    import peerlearn.resources.models
    import peerlearn.search.models
    import peerlearn.spaces.models  # noqa: F401


def _autoescape(template_name: str | None) -> bool:
    # Flask escapes only .html/.xml-like templates by default; the NHS.UK macros are .jinja files
    # and print form values, labels and messages, so they must be escaped too.
    return template_name is None or template_name.endswith(
        (".html", ".htm", ".xml", ".xhtml", ".svg", ".jinja")
    )


def _import_socket_handlers() -> None:
    """Import every feature's Socket.IO handlers before ``socketio.init_app``.

    Flask-SocketIO keeps handlers declared before its first ``init_app`` and gives them to every
    server it makes; a handler declared later is attached to the current server only, and a
    second app (a worker, a test) would silently lack it.
    """
    import peerlearn.events.sockets
    import peerlearn.events.sockets_access
    import peerlearn.events.sockets_moderation
    import peerlearn.events.sockets_qa
    import peerlearn.notifications.sockets  # noqa: F401


def _init_templates(app: Flask) -> None:
    # NHS.UK frontend macros come from the nhsuk-frontend-jinja package and need ChainableUndefined.
    app.jinja_options = {
        **app.jinja_options,
        "undefined": ChainableUndefined,
        "autoescape": _autoescape,
    }
    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [app.jinja_loader, PackageLoader("nhsuk_frontend_jinja")]  # type: ignore[list-item]
    )


def _init_extensions(app: Flask) -> None:
    from peerlearn.core import cache

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    init_socketio(app)


def init_socketio(app: Flask) -> None:
    """Bind Socket.IO to the app. Its server is one per process: the last app bound owns it."""
    queue = app.config.get("REDIS_URL")
    socketio.init_app(
        app,
        message_queue=queue,
        # Flask-SocketIO keeps options between init_app calls: forget an earlier app's queue.
        **({} if queue else {"client_manager": None}),
        # Processes sharing a Redis (staging and production, say) stay apart by channel.
        channel=app.config.get("SOCKETIO_CHANNEL") or "flask-socketio",
        # threading for flask run, gevent under gunicorn -k gevent (config.py; never guessed).
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
        # Same-origin only: the browser's Origin must match the host the page came from.
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ALLOWED_ORIGINS"),
        logger=False,
        engineio_logger=False,
        # The largest chat message is 2,000 characters: nothing legitimate comes near this.
        max_http_buffer_size=100_000,
    )


def _register_features(app: Flask) -> None:
    from peerlearn import cli
    from peerlearn.accounts import auth
    from peerlearn.accounts.views import bp as accounts_bp
    from peerlearn.admin.views import bp as admin_bp
    from peerlearn.core import errors, logs, security, templating
    from peerlearn.core.views import bp as core_bp
    from peerlearn.discussions.views import bp as discussions_bp
    from peerlearn.events import (
        live_views,  # noqa: F401 - the event page, on the events blueprint
        transcript_views,  # noqa: F401 - routes on the events blueprint
    )
    from peerlearn.events.views import bp as events_bp
    from peerlearn.home.views import bp as home_bp
    from peerlearn.moderation.views import bp as moderation_bp
    from peerlearn.notifications.views import bp as notifications_bp
    from peerlearn.organisations.views import bp as organisations_bp
    from peerlearn.resources import blueprint as resources_blueprint
    from peerlearn.search import commands as search_commands
    from peerlearn.search.views import bp as search_bp
    from peerlearn.spaces.views import bp as spaces_bp

    logs.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    auth.init_app(app)
    for blueprint in (
        core_bp,
        home_bp,
        accounts_bp,
        organisations_bp,
        spaces_bp,
        discussions_bp,
        events_bp,
        resources_blueprint(),
        moderation_bp,
        notifications_bp,
        admin_bp,
        search_bp,
    ):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    search_commands.init_app(app)
