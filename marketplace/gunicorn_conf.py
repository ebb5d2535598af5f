"""gunicorn's settings for serving the marketplace (options on the command line still apply):

    gunicorn -c python:marketplace.gunicorn_conf --workers 4 'marketplace:create_app()'

Only gunicorn imports this file: it prepares the metrics directory as it is read. The hooks
are in ``marketplace.operations.serving``.
"""
from marketplace.operations.serving import (child_exit, on_exit, post_fork, post_worker_init, pre_request,
                                            prepare_metrics_directory, prepare_start_lock, when_ready)

__all__ = ["child_exit", "on_exit", "post_fork", "post_worker_init", "pre_request", "when_ready"]

prepare_metrics_directory()
prepare_start_lock()

# The master loads the app and forks the workers from it (see operations.serving). Code is read
# once, when gunicorn starts: deploy new code by restarting gunicorn, not with HUP.
preload_app = True

# A safety net, not a fix: whatever a library may keep, a worker is replaced (after its request,
# by a fresh fork of the master) once it has answered about this many requests; the jitter spreads
# the replacements, and a worker due to be replaced waits while another starts (operations.serving).
# ``--max-requests 0`` on the command line turns it off.
max_requests = 20000
max_requests_jitter = 10000
