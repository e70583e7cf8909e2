"""WSGI entry point for production servers.

Live chat needs gunicorn's gevent worker, one worker per process (docs/live-chat-production.md):
``gunicorn --worker-class gevent --workers 1 --worker-connections 10000 --bind 127.0.0.1:8001
wsgi:app``. The worker patches the standard library with gevent before importing this module, so
never add ``--preload``.
"""

from peerlearn import create_app

app = create_app()
