"""Run the app under uvicorn: one worker, no reload, JSON logs, graceful SIGTERM."""

from __future__ import annotations

import logging

import uvicorn

from meshlink_service.app import create_app
from meshlink_service.config import Settings
from meshlink_service.observability import configure_logging

# ECS waits 30 s between SIGTERM and SIGKILL; in-flight calls get a third of that.
GRACEFUL_SHUTDOWN_SECONDS = 10


def serve(settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT; returns the process exit code."""
    configure_logging(settings.service_name, settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        reload=False,
        # Pure-Python loop and parser: nothing optional to import or build, and the
        # same behaviour in the image, the local cloud and the tests.
        loop="asyncio",
        http="h11",
        ws="none",  # no websocket routes; never import a websocket library
        lifespan="on",
        # Logging is configured above; our middleware writes the one access line.
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    logging.getLogger("meshlink_service").info(
        "starting",
        extra={
            "fields": {
                "host": settings.host,
                "port": settings.port,
                "bind_address": settings.bind_address,
                "peers": {peer.name: peer.url for peer in settings.peers},
            }
        },
    )
    server.run()
    # uvicorn reports a failed bind or startup only through `started` (it logs and exits).
    return 0 if server.started else 3
