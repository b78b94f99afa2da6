"""meshlink's bundled microservice: the FastAPI service that runs as every ECS task.

Kept import-free on purpose: ``python -m meshlink_service probe`` must not pay for
FastAPI, and the local cloud starts one server process per task.
"""

__version__ = "0.1.0"
