"""X-Ray traces of the service's routes and its peer calls (topology ``tracing: xray``).

With ``MESHLINK_TRACING=xray`` every request becomes a segment named after the service,
continuing the caller's trace (``X-Amzn-Trace-Id``), and every peer call through httpx a
subsegment that passes the trace on, so X-Ray's service map shows the mesh's edges. The
segments go over UDP to the X-Ray daemon sidecar at ``AWS_XRAY_DAEMON_ADDRESS``
(127.0.0.1:2000: containers of a Fargate task share its network namespace). The library
is aws-xray-sdk, AWS's SDK for the daemon's protocol: in maintenance (security fixes)
since 2026-02-25 and supported until 2027-02-25
(https://docs.aws.amazon.com/xray/latest/devguide/xray-sdk-daemon-timeline.html).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACING_VARIABLE = "MESHLINK_TRACING"
TRACE_HEADER = b"x-amzn-trace-id"


def enabled() -> bool:
    """Whether the task asked for X-Ray traces."""
    return os.environ.get(TRACING_VARIABLE, "").lower() == "xray"


def configure(service: str) -> None:
    """Point the recorder at the daemon and trace httpx (before any client exists).

    Called on the running server loop: segments live per asyncio task there, and tasks
    a request starts (peer checks run concurrently) inherit its segment.
    """
    import asyncio

    from aws_xray_sdk.core import patch, xray_recorder
    from aws_xray_sdk.core.async_context import AsyncContext

    xray_recorder.configure(
        service=service,
        context=AsyncContext(loop=asyncio.get_running_loop(), use_task_factory=True),
        daemon_address=os.environ.get("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000"),
        context_missing="IGNORE_ERROR",  # a call outside a request is not an error
        plugins=(),
    )
    patch(["httpx"])


class TracingMiddleware:
    """Pure ASGI middleware: one X-Ray segment per HTTP request."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        from aws_xray_sdk.core import xray_recorder
        from aws_xray_sdk.core.models import http
        from aws_xray_sdk.core.models.trace_header import TraceHeader

        incoming = dict(scope.get("headers") or []).get(TRACE_HEADER, b"").decode("latin-1")
        header = TraceHeader.from_header_str(incoming) if incoming else None
        segment: Any = xray_recorder.begin_segment(
            name=self._service,
            traceid=header.root if header else None,
            parent_id=header.parent if header else None,
            sampling=header.sampled if header else None,
        )
        segment.put_http_meta(http.METHOD, scope.get("method", ""))
        segment.put_http_meta(http.URL, str(scope.get("path", "")))
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_status)
        finally:
            segment.put_http_meta(http.STATUS, status)
            if status >= 500:
                segment.add_fault_flag()
            elif status >= 400:
                segment.add_error_flag()
            xray_recorder.end_segment()
