"""gunicorn settings for the portal's web processes (read from the working directory by default).

Threads let one process overlap the database and Redis round trips of concurrent webhook
deliveries and admin pages; processes use the cores. Both can be set from the environment.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 60
