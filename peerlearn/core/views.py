"""Operational routes: the health check and the NHS.UK frontend's asset folder."""

import logging
from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_from_directory
from sqlalchemy import text
from werkzeug.wrappers import Response

from peerlearn.extensions import db, limiter

logger = logging.getLogger(__name__)

bp = Blueprint("core", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """The database's (and, when configured, Redis's) state; 503 when one is down."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # any failure means "down"; the reason goes to the log only
        logger.exception("health check: database unavailable")
        db.session.rollback()
        checks["database"] = "unavailable"
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception:
            logger.exception("health check: redis unavailable")
            checks["redis"] = "unavailable"
    else:
        checks["redis"] = "not configured"
    healthy = all(state in {"ok", "not configured"} for state in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


@bp.get("/assets/<path:filename>")
@limiter.exempt
def nhsuk_assets(filename: str) -> Response:
    """NHS.UK frontend images and manifest: its CSS expects them at ``/assets``."""
    folder = Path(current_app.static_folder or "") / "vendor" / "nhsuk" / "assets"
    return send_from_directory(folder, filename, max_age=86400)
