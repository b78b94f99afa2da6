"""GET /peers, POST /call/{peer} and /ready against real peers on loopback."""

from __future__ import annotations

import json
import time

from meshlink_service.testing import (
    ClosedPort,
    LoopbackServer,
    MakeClient,
    PeerScript,
    scripted_peer,
)


def _peer_report(body: dict[str, object], name: str) -> dict[str, object]:
    reports = body["peers"]
    assert isinstance(reports, list)
    (report,) = [r for r in reports if r["peer"] == name]
    assert isinstance(report, dict)
    return report


def test_peers_reports_each_peer_up_down_failing_and_slow(
    make_client: MakeClient,
    healthy_peer: tuple[LoopbackServer, PeerScript],
    failing_peer: LoopbackServer,
    slow_peer: LoopbackServer,
    down_peer: ClosedPort,
) -> None:
    client = make_client(
        {
            "SERVICE_NAME": "user-service",
            "PEER_NOTIFICATION_SERVICE_URL": healthy_peer[0].url,
            "PEER_BROKEN_URL": failing_peer.url,
            "PEER_SLOW_URL": slow_peer.url,
            "PEER_GONE_URL": down_peer.url,
            "PEERS_CHECK_TIMEOUT_SECONDS": "0.5",
        }
    )
    started = time.monotonic()
    response = client.get("/peers")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "user-service"
    assert body["all_ok"] is False
    assert [r["peer"] for r in body["peers"]] == ["broken", "gone", "notification-service", "slow"]

    ok = _peer_report(body, "notification-service")
    assert ok["ok"] is True
    assert ok["status"] == 200
    assert ok["service"] == "notification-service"
    assert ok["error"] is None

    broken = _peer_report(body, "broken")
    assert (broken["ok"], broken["status"], broken["error"]) == (False, 500, "HTTP 500")

    gone = _peer_report(body, "gone")
    assert (gone["ok"], gone["status"], gone["error"]) == (False, None, "connection refused")
    # Connection errors on an idempotent GET are retried (PEER_CONNECT_RETRIES=2).
    assert gone["attempts"] == 3

    slow = _peer_report(body, "slow")
    assert (slow["ok"], slow["status"], slow["error"]) == (False, None, "no answer within 0.5 s")
    assert 400 <= float(str(slow["latency_ms"])) < 1500
    # The slow peer's timeout bounds the whole report (the peer itself takes 3 s).
    assert elapsed < 2.5


def test_peers_checks_run_concurrently(make_client: MakeClient) -> None:
    scripts = [PeerScript(name=f"p{i}", delay=0.6) for i in range(3)]
    servers = [LoopbackServer(scripted_peer(s)).start() for s in scripts]
    try:
        env = {f"PEER_P{i}_URL": server.url for i, server in enumerate(servers)}
        client = make_client(env)
        started = time.monotonic()
        body = client.get("/peers").json()
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.stop()
    assert body["all_ok"] is True
    assert 0.6 <= elapsed < 1.5  # one delay, not three (1.8 s)


def test_peers_with_no_peers_is_an_empty_report(make_client: MakeClient) -> None:
    assert make_client({}).get("/peers").json() == {
        "service": "microservice",
        "all_ok": True,
        "peers": [],
    }


def test_call_forwards_json_body_and_request_id(
    make_client: MakeClient, healthy_peer: tuple[LoopbackServer, PeerScript]
) -> None:
    server, _ = healthy_peer
    client = make_client({"PEER_NOTIFICATION_SERVICE_URL": server.url})
    response = client.post(
        "/call/notification-service?path=/echo",
        content=json.dumps({"order": 42}),
        headers={"X-Request-ID": "trace-abc", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["status"] == 200
    echo = body["response"]["echo"]
    assert echo["method"] == "POST"
    assert json.loads(echo["body"]) == {"order": 42}
    # The caller's request id reaches the peer, so one id follows a request across the mesh.
    assert echo["request_id"] == "trace-abc"
    assert response.headers["x-request-id"] == "trace-abc"


def test_call_without_body_is_a_get_of_the_path(
    make_client: MakeClient, healthy_peer: tuple[LoopbackServer, PeerScript]
) -> None:
    client = make_client({"PEER_NOTIFICATION_SERVICE_URL": healthy_peer[0].url})
    body = client.post("/call/notification-service?path=/health").json()
    assert body["response"] == {"status": "healthy", "service": "notification-service"}
    echo = client.post("/call/notification-service?path=/echo").json()["response"]["echo"]
    assert (echo["method"], echo["body"]) == ("GET", "")


def test_call_to_a_real_meshlink_service_hello(make_client: MakeClient) -> None:
    from meshlink_service.app import create_app
    from meshlink_service.config import load_settings

    provider = create_app(load_settings({"SERVICE_NAME": "notification-service"}))
    with LoopbackServer(provider) as server:
        client = make_client(
            {"SERVICE_NAME": "user-service", "PEER_NOTIFICATION_SERVICE_URL": server.url}
        )
        body = client.post("/call/notification-service").json()
    assert body["response"] == {
        "message": "Hello from ECS Python microservice!",
        "service": "notification-service",
    }


def test_call_unknown_peer_is_404(make_client: MakeClient) -> None:
    client = make_client({"SERVICE_NAME": "a", "PEER_B_URL": "http://127.0.0.1:9"})
    response = client.post("/call/c")
    assert response.status_code == 404
    assert response.json()["detail"] == "a does not consume 'c' (consumed peers: b)"


def test_call_peer_answering_500_is_502_with_the_answer(
    make_client: MakeClient, failing_peer: LoopbackServer
) -> None:
    client = make_client({"PEER_BROKEN_URL": failing_peer.url})
    response = client.post("/call/broken?path=/health")
    assert response.status_code == 502
    body = response.json()
    assert (body["status"], body["result"]) == (500, "http_error")
    assert body["response"] == {"status": "healthy", "service": "broken"}


def test_call_peer_down_is_502_and_a_post_is_never_retried(
    make_client: MakeClient, down_peer: ClosedPort
) -> None:
    client = make_client({"PEER_GONE_URL": down_peer.url})
    get = client.post("/call/gone")
    assert get.status_code == 502
    assert (get.json()["error"], get.json()["attempts"]) == ("connection refused", 3)
    post = client.post("/call/gone", content=b'{"x": 1}')
    assert post.status_code == 502
    assert post.json()["attempts"] == 1


def test_call_slow_peer_is_504_within_the_timeout(
    make_client: MakeClient, slow_peer: LoopbackServer
) -> None:
    client = make_client({"PEER_SLOW_URL": slow_peer.url, "PEER_TIMEOUT_SECONDS": "0.3"})
    started = time.monotonic()
    response = client.post("/call/slow?path=/health")
    assert time.monotonic() - started < 2.5  # the peer takes 3 s
    assert response.status_code == 504
    assert response.json()["result"] == "timeout"


def test_call_rejects_bad_body_and_paths_that_leave_the_peer(
    make_client: MakeClient, healthy_peer: tuple[LoopbackServer, PeerScript]
) -> None:
    client = make_client({"PEER_NOTIFICATION_SERVICE_URL": healthy_peer[0].url})
    assert client.post("/call/notification-service", content=b"not json").status_code == 400
    huge = b'"' + b"x" * (1024 * 1024) + b'"'
    assert client.post("/call/notification-service", content=huge).status_code == 413
    for path in ("health", "//evil.example/x", "@evil.example/", "/a b"):
        response = client.post("/call/notification-service", params={"path": path})
        assert response.status_code == 400, path


def test_outgoing_calls_leave_from_bind_address(make_client: MakeClient) -> None:
    script = PeerScript(name="whoami")
    with LoopbackServer(scripted_peer(script)) as server:
        client = make_client({"PEER_WHOAMI_URL": server.url, "BIND_ADDRESS": "127.0.0.23"})
        echo = client.post("/call/whoami?path=/echo").json()["response"]["echo"]
        client.get("/peers")
    assert echo["client"] == "127.0.0.23"
    assert [seen["client"] for seen in script.seen] == ["127.0.0.23", "127.0.0.23"]


def test_status_and_metrics_record_peer_results(
    make_client: MakeClient, failing_peer: LoopbackServer, down_peer: ClosedPort
) -> None:
    client = make_client({"PEER_BROKEN_URL": failing_peer.url, "PEER_GONE_URL": down_peer.url})
    client.get("/peers")
    client.post("/call/broken?path=/health")
    status = client.get("/status").json()
    last = {peer["name"]: peer["last"] for peer in status["peers"]}
    assert last["broken"]["status"] == 500
    assert last["broken"]["url"] == failing_peer.url + "/health"
    assert last["gone"]["result"] == "unreachable"
    text = client.get("/metrics").text
    total = "meshlink_service_peer_requests_total"
    assert f'{total}{{peer="broken",kind="health",result="http_error"}} 1' in text
    assert f'{total}{{peer="broken",kind="call",result="http_error"}} 1' in text
    assert f'{total}{{peer="gone",kind="health",result="unreachable"}} 1' in text
    count = "meshlink_service_peer_request_duration_seconds_count"
    assert f'{count}{{peer="broken",kind="health"}} 1' in text


def test_ready_waits_for_peers_then_stays_ready(make_client: MakeClient) -> None:
    waiting = ClosedPort()
    port = waiting.port
    client = make_client({"PEER_LATER_URL": waiting.url, "READY_REQUIRES_PEERS": "true"})
    not_yet = client.get("/ready")
    assert not_yet.status_code == 503
    assert not_yet.json()["reason"] == "waiting for peers"
    assert client.get("/status").json()["ready"] is False
    waiting.close()
    # The peer comes up on the address the service was configured with.
    server = LoopbackServer(scripted_peer(PeerScript(name="later")), port=port)
    with server:
        assert client.get("/ready").status_code == 200
    # Latched: a peer going away later does not pull this service out of rotation.
    assert client.get("/ready").status_code == 200
    assert "meshlink_service_ready 1" in client.get("/metrics").text.splitlines()


def test_ready_ignores_peers_unless_asked(make_client: MakeClient, down_peer: ClosedPort) -> None:
    assert make_client({"PEER_GONE_URL": down_peer.url}).get("/ready").status_code == 200
