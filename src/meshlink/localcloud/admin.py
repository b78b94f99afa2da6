"""The admin API under /_meshlink/ on the local cloud's port, and its extension hook.

Other parts of the server process add routes with :func:`register_route`::

    from meshlink.localcloud.admin import AdminRequest, register_route

    def dns(request: AdminRequest) -> object:
        return {"records": [...]}          # any JSON-able value -> 200 application/json

    register_route("/dns", dns)            # serves GET/POST /_meshlink/dns
    register_route("/logs/", logs, prefix=True)   # /_meshlink/logs/<anything>

A handler returns a JSON-able value (sent as 200 JSON) or an :class:`AdminResponse`
for another status, content type or a plain-text body. An exception in a handler
becomes a 500 JSON error; :class:`AdminError` picks its own status.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

PREFIX = "/_meshlink"


@dataclass(frozen=True)
class AdminRequest:
    """What a handler sees of one HTTP request."""

    method: str
    path: str  # below /_meshlink, e.g. "/logs/abc"
    query: dict[str, str]
    body: bytes = b""
    route: str = ""  # the registered path that matched

    @property
    def subpath(self) -> str:
        """For prefix routes: the part after the registered prefix."""
        return self.path[len(self.route) :]

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class AdminResponse:
    """An explicit response: status, body (JSON-able, str or bytes), content type."""

    body: Any
    status: int = 200
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class AdminError(Exception):
    """Raise from a handler to answer with `status` and a JSON error message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


Handler = Callable[[AdminRequest], Any]

_lock = threading.Lock()
_exact: dict[str, Handler] = {}
_prefixes: dict[str, Handler] = {}


def register_route(path: str, handler: Handler, *, prefix: bool = False) -> None:
    """Serve `handler` at /_meshlink<path> (or every path below it when `prefix`)."""
    if not path.startswith("/"):
        raise ValueError(f"admin route must start with '/': {path!r}")
    with _lock:
        (_prefixes if prefix else _exact)[path] = handler


def unregister_route(path: str) -> None:
    with _lock:
        _exact.pop(path, None)
        _prefixes.pop(path, None)


def routes() -> list[str]:
    """Every registered route, prefixes marked with a trailing '*'."""
    with _lock:
        return sorted(_exact) + sorted(p + "*" for p in _prefixes)


def _find(path: str) -> tuple[str, Handler] | None:
    with _lock:
        if path in _exact:
            return path, _exact[path]
        for route in sorted(_prefixes, key=len, reverse=True):
            if path.startswith(route):
                return route, _prefixes[route]
    return None


def _encode(response: AdminResponse) -> tuple[bytes, str]:
    body = response.body
    if isinstance(body, bytes):
        return body, response.content_type or "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), response.content_type or "text/plain; charset=utf-8"
    text = json.dumps(body, indent=2, default=str) + "\n"
    return text.encode(), response.content_type or "application/json"


def handle(request: AdminRequest) -> AdminResponse:
    """Dispatch one request to its handler; errors become JSON error responses."""
    found = _find(request.path or "/")
    if found is None:
        return AdminResponse({"error": f"no admin route {request.path}", "routes": routes()}, 404)
    route, handler = found
    try:
        result = handler(
            AdminRequest(request.method, request.path, request.query, request.body, route)
        )
    except AdminError as error:
        return AdminResponse({"error": str(error)}, error.status)
    except Exception as error:
        return AdminResponse({"error": repr(error), "traceback": traceback.format_exc()}, 500)
    return result if isinstance(result, AdminResponse) else AdminResponse(result)


def wsgi_handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """WSGI entry for every path under /_meshlink."""
    path = environ.get("PATH_INFO", "")[len(PREFIX) :] or "/"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    response = handle(AdminRequest(environ.get("REQUEST_METHOD", "GET"), path, query, body))
    payload, content_type = _encode(response)
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
    status = f"{response.status} {reason.get(response.status, 'Status')}"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
    headers += list(response.headers.items())
    start_response(status, headers)
    return [payload]
