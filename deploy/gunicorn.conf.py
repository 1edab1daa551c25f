"""gunicorn settings for quizapp: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

The same file serves production (deploy/quizapp@.service), `make bench` and the
two-instance test. What differs between them comes from the environment:

- ``GUNICORN_BIND``: the address, default ``127.0.0.1:8000`` (nginx in front).
- ``WEB_CONCURRENCY``: the number of workers, default 4 (see docs/operations.md,
  "Sizing": on 2 cores, 4 sync workers keep both cores busy while some wait on
  PostgreSQL's commit; more did not raise the ceiling).

Sync workers: every request is CPU work in Python plus a few short queries, and
nginx buffers slow clients, so a worker is never held by a slow network.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
# Connections wait here (in the kernel) while every worker is busy: at a start
# spike of 1,000 candidates, the queue must not overflow into refused connections.
backlog = 2048
# A request that takes this long is stuck: the worker is replaced.
timeout = 30
graceful_timeout = 30
# Recycle workers now and then so a slow leak cannot grow without bound; the
# jitter keeps them from restarting together.
max_requests = 20000
max_requests_jitter = 2000
# Load the app once in the master, then fork: workers share its memory pages.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = "warning"
proc_name = "quizapp"
