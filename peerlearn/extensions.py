"""Flask extensions, created unbound here and bound to an app in :func:`peerlearn.create_app`."""

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from peerlearn.core.db import Base, CommittingSession

db = SQLAlchemy(model_class=Base, session_options={"class_": CommittingSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
#: Rendered fragments and short-lived values (see peerlearn/core/cache.py).
cache = Cache()
#: Limits are declared on the views that need them; nothing is limited by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
