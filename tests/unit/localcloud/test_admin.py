"""The admin API's router and its WSGI adapter (no server needed)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from meshlink.localcloud import admin
from meshlink.localcloud.admin import AdminError, AdminRequest, AdminResponse


@pytest.fixture(autouse=True)
def clean_routes() -> Iterator[None]:
    before = admin.routes()
    yield
    for route in admin.routes():
        if route not in before:
            admin.unregister_route(route.rstrip("*"))


def call(
    method: str, path: str, body: bytes = b"", query: str = ""
) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {
        "PATH_INFO": f"/_meshlink{path}",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    payload = b"".join(admin.wsgi_handle(environ, start_response))
    return seen["status"], seen["headers"], payload


def test_json_handler_gets_method_query_and_body() -> None:
    def echo(request: AdminRequest) -> dict[str, Any]:
        return {"method": request.method, "query": request.query, "body": request.json()}

    admin.register_route("/echo", echo)
    status, headers, payload = call("POST", "/echo", b'{"a": 1}', "x=2")
    assert status == "200 OK" and headers["Content-Type"] == "application/json"
    assert json.loads(payload) == {"method": "POST", "query": {"x": "2"}, "body": {"a": 1}}


def test_prefix_route_sees_subpath_and_longest_prefix_wins() -> None:
    admin.register_route("/logs/", lambda r: AdminResponse(f"short {r.subpath}"), prefix=True)
    admin.register_route("/logs/task/", lambda r: AdminResponse(f"long {r.subpath}"), prefix=True)
    _, headers, payload = call("GET", "/logs/task/abc")
    assert payload == b"long abc" and headers["Content-Type"].startswith("text/plain")
    assert call("GET", "/logs/x")[2] == b"short x"


def test_errors_become_json_with_status() -> None:
    def bad(_: AdminRequest) -> None:
        raise AdminError("nope", 409)

    def broken(_: AdminRequest) -> None:
        raise RuntimeError("boom")

    admin.register_route("/bad", bad)
    admin.register_route("/broken", broken)
    status, _, payload = call("GET", "/bad")
    assert status.startswith("409") and json.loads(payload) == {"error": "nope"}
    status, _, payload = call("GET", "/broken")
    assert status.startswith("500") and "boom" in json.loads(payload)["error"]
    status, _, payload = call("GET", "/missing")
    assert status.startswith("404") and "/bad" in json.loads(payload)["routes"]


def test_route_must_start_with_slash() -> None:
    with pytest.raises(ValueError, match="must start with"):
        admin.register_route("dns", lambda r: None)
