"""gunicorn's settings for serving the marketplace (options on the command line still apply):

    gunicorn -c python:marketplace.gunicorn_conf --workers 4 'marketplace:create_app()'
"""
import gc


def settle():
    """Call once the app is loaded. What exists then (the app, its libraries, their
    functions and classes) lives as long as the process: freezing it keeps the cyclic
    garbage collector from walking those ~150,000 objects again in every full collection
    that a request's allocations trigger (a third of a search page's time without it)."""
    gc.freeze()


def post_worker_init(worker):
    settle()
