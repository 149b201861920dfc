"""gunicorn settings of an API instance: `gunicorn -c config/gunicorn.conf.py 'claims.app:create_app()'`.

Workers, threads and the bind address stay on the command line (docs/deploy.md); this file holds what every
instance wants whatever its size.
"""
import gc

worker_class = "gthread"
keepalive = 30


def post_worker_init(worker):
    """Freeze what the worker built at start-up (the app, its schemas, the rules) out of the collector's sight.

    Those objects live as long as the worker. Left in the collector's oldest generation, every full collection
    walks all of them with the GIL held, a stall that lands on whichever requests are in flight; frozen, a
    collection walks only what requests created.
    """
    gc.freeze()
