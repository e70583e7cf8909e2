"""WSGI entry point for production servers: ``gunicorn wsgi:app``."""

from peerlearn import create_app

app = create_app()
