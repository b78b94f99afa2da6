"""The service's own routes, through FastAPI's test client."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from meshlink_service import __version__
from meshlink_service.app import create_app
from meshlink_service.config import load_settings
from meshlink_service.metrics import CONTENT_TYPE
from meshlink_service.observability import JsonFormatter
from meshlink_service.testing import MakeClient

# name{labels} value — what a Prometheus scraper accepts for a sample line.
_SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? '
    r"(-?[0-9.e+-]+|\+Inf|NaN)$"
)


def test_health_reports_the_configured_name(make_client: MakeClient) -> None:
    response = make_client({"SERVICE_NAME": "user-service"}).get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "user-service"}


def test_health_default_name_is_the_blog_posts(make_client: MakeClient) -> None:
    assert make_client({}).get("/health").json() == {"status": "healthy", "service": "microservice"}


def test_root_and_hello_are_the_blog_posts(make_client: MakeClient) -> None:
    client = make_client({"SERVICE_NAME": "a"})
    assert client.get("/").json()["message"] == "Welcome to the ECS Python microservice!"
    assert client.get("/hello").json()["message"] == "Hello from ECS Python microservice!"
    assert client.get("/hello").json()["service"] == "a"


def test_not_ready_before_startup_then_ready() -> None:
    app = create_app(load_settings({"SERVICE_NAME": "a"}))
    # Without the context manager the lifespan never runs: the service is "starting".
    starting = TestClient(app).get("/ready")
    assert starting.status_code == 503
    assert starting.json()["reason"] == "starting"
    with TestClient(app) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "service": "a"}


def test_status_has_name_version_uptime_and_peers(make_client: MakeClient) -> None:
    client = make_client({"SERVICE_NAME": "a", "PEER_B_SERVICE_URL": "http://127.0.0.1:9/"})
    body = client.get("/status").json()
    assert body["service"] == "a"
    assert body["version"] == __version__
    assert body["uptime_seconds"] >= 0
    assert body["ready"] is True
    assert body["peers"] == [{"name": "b-service", "url": "http://127.0.0.1:9", "last": None}]


def test_request_id_is_echoed_or_generated(make_client: MakeClient) -> None:
    client = make_client({})
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    generated = client.get("/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    # A header that could forge log lines is replaced, not propagated.
    forged = client.get("/health", headers={"X-Request-ID": 'x" "status":500'})
    assert forged.headers["x-request-id"] != 'x" "status":500'


def test_metrics_is_prometheus_text_with_route_templates(make_client: MakeClient) -> None:
    client = make_client({"SERVICE_NAME": "a"})
    client.get("/health")
    client.get("/health")
    client.post("/call/nobody")
    client.get("/no/such/route")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    lines = response.text.splitlines()
    samples = [line for line in lines if not line.startswith("#")]
    bad = [line for line in samples if not _SAMPLE.match(line)]
    assert samples and not bad
    text = response.text
    assert 'meshlink_service_http_requests_total{method="GET",route="/health",status="200"} 2' in (
        text
    )
    # The peer's name is a path parameter: it must not become a label value.
    assert 'route="/call/{peer}",status="404"} 1' in text
    assert 'route="<unmatched>",status="404"} 1' in text
    assert 'meshlink_service_info{service="a",version="' + __version__ + '"} 1' in text
    assert "meshlink_service_ready 1" in lines


def test_latency_histogram_buckets_are_cumulative(make_client: MakeClient) -> None:
    client = make_client({})
    for _ in range(3):
        client.get("/hello")
    text = client.get("/metrics").text
    prefix = 'meshlink_service_http_request_duration_seconds_bucket{method="GET",route="/hello"'
    counts = [int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)]
    assert counts == sorted(counts)
    assert counts[-1] == 3  # le="+Inf" counts every observation
    count_line = 'meshlink_service_http_request_duration_seconds_count{method="GET",route="/hello",'
    assert f'{count_line}status="200"}} 3' in text


def test_one_json_log_line_per_request(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client({"SERVICE_NAME": "logged"})
    with caplog.at_level(logging.INFO, logger="meshlink_service.access"):
        client.get("/hello", headers={"X-Request-ID": "req-7"})
    records = [r for r in caplog.records if r.name == "meshlink_service.access"]
    assert len(records) == 1
    line = JsonFormatter("logged").format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["service"] == "logged"
    assert entry["request_id"] == "req-7"
    assert entry["route"] == "/hello"
    assert entry["status"] == 200
    assert entry["method"] == "GET"
    assert entry["duration_ms"] >= 0
