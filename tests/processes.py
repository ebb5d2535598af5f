"""Service calls racing each other in separate worker processes on the test's PostgreSQL
database, as two requests in two gunicorn workers do: each process loads what its page showed,
all meet at a barrier, then each makes its change."""
import multiprocessing
import traceback


def _run(config, target, args, barrier, results):
    try:
        from marketplace import create_app

        app = create_app(config)
        with app.app_context(), app.test_request_context(base_url="http://marketplace.test"):
            results.put(("ok", target(lambda: barrier.wait(timeout=60), *args)))
    except Exception:
        results.put(("error", traceback.format_exc()))


def fresh_processes():
    """A multiprocessing context whose processes start clean (no connection, thread or state
    of the test process), forked from a server process that imported the app once, as
    gunicorn's workers are: each then makes its own app. Starting each by spawning cost
    seconds of imports."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["marketplace", "tests.processes"])
    return context


def together(app, target, calls):
    """Run ``target(wait, *args)`` for each ``args`` in ``calls``, each in a process of
    its own (``fresh_processes``); ``target`` (a module-level function) calls ``wait()`` once it has read what it
    decides on. Returns what each returned, in the order they finished."""
    config = {"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "MAIL_BACKEND": "memory",
              "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    context = fresh_processes()
    barrier, results = context.Barrier(len(calls)), context.Queue()
    processes = [context.Process(target=_run, args=(config, target, args, barrier, results)) for args in calls]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert all(status == "ok" for status, _ in outcomes), [detail for _, detail in outcomes]
    return [value for _, value in outcomes]
