"""WSGI entry point for production servers.

Live chat needs gunicorn's gevent worker, one worker per process (docs/live-chat-production.md):
``gunicorn --worker-class gevent --workers 1 --worker-connections 10000 --bind 127.0.0.1:8001
wsgi:app``. The worker patches the standard library with gevent before importing this module, so
never add ``--preload``.
"""

import gc

from peerlearn import create_app

app = create_app()

# The modules and the app made above (some 190,000 objects) live as long as the process: leave
# them out of the garbage collector's full passes, which otherwise walk them all every few
# hundred chat messages (bench/send_cost.py --gc-freeze: the mean CPU per send drops to its
# median). What is made from here on is collected as before.
gc.collect()
gc.freeze()
