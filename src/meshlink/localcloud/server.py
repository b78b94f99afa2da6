"""The local cloud process: ``python -m meshlink.localcloud.server --port P --state-dir D``.

One process, one port: moto (patched by :mod:`meshlink.localcloud.patches`) answers the
AWS APIs, :mod:`meshlink.localcloud.admin` answers ``/_meshlink/...``.

Extension contract (the data plane)
-----------------------------------
After the HTTP server is bound and before the pid/port file is written, the server
imports every module named in :data:`EXTENSIONS` that exists (today
``meshlink.localcloud.dataplane``) and calls its ``start(context)`` with a
:class:`ServerContext`. ``start`` must return quickly (start threads, don't block);
it may register admin routes (:func:`meshlink.localcloud.admin.register_route`) and
may return a zero-argument callable that the server calls on shutdown (or the module
may define ``stop(context)``). While reading or changing moto's in-memory backends
outside a request, hold ``context.moto_lock`` (every AWS API request holds it too),
keep the hold short, and never make an HTTP call to the local cloud while holding
it. An exception from ``start`` is logged and the local cloud runs without that
extension (``/_meshlink/health`` lists it under ``extensions_failed``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshlink import __version__
from meshlink.localcloud import admin, api_log, info

EXTENSIONS = ("meshlink.localcloud.dataplane",)
log = logging.getLogger("meshlink.localcloud")


@dataclass
class ServerContext:
    """What an extension's ``start(context)`` receives."""

    endpoint_url: str
    port: int
    state_dir: Path
    log_file: Path
    started_at: float
    region: str = "us-east-1"
    moto_lock: threading.RLock = field(default_factory=threading.RLock)
    shutdown_event: threading.Event = field(default_factory=threading.Event)
    extensions_loaded: list[str] = field(default_factory=list)
    extensions_failed: dict[str, str] = field(default_factory=dict)

    def backends(self, service: str) -> Any:
        """moto's BackendDict for `service` ("ec2", "ecs", "elbv2", ...): [account][region]."""
        from moto.backends import get_backend

        return get_backend(service)  # type: ignore[call-overload]


class LocalCloudApp:
    """WSGI app: /_meshlink/* to the admin API, everything else to moto (serialised).

    Every AWS call is logged (service, action, status, milliseconds) so that
    ``meshlink local logs`` shows what a deploy did; failures at WARNING level.
    """

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], lock: threading.RLock):
        from meshlink.localcloud.idempotency import ClientTokens

        self._moto = moto_app
        self._lock = lock
        self._tokens = ClientTokens()  # EC2's ClientToken: a retry answered, not redone

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(admin.PREFIX):
            return admin.wsgi_handle(environ, start_response)
        began = time.perf_counter()
        seen: list[tuple[str, list[tuple[str, str]]]] = []  # the status and headers sent
        _buffer_form_body(environ)

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            seen.append((status, list(headers)))
            return start_response(status, headers, *args)

        from meshlink.localcloud.patches.identity import current_caller, set_caller

        with self._lock:
            set_caller(None)
            token = self._tokens.key(environ)
            again = self._tokens.replay(token, environ) if token else None
            if again is not None:
                recording_start_response(again.status, again.headers)
                body = [again.body]
            else:
                # moto's models are not thread-safe; the body is materialised under the lock.
                body = list(self._moto(environ, recording_start_response))
                if token and seen:
                    self._tokens.keep(token, environ, *seen[0], b"".join(body))
            caller = current_caller()
            status = seen[0][0] if seen else "?"
            # Who called what, for /_meshlink/api-calls (bootstrap's policy is derived from it).
            api_log.record(environ, caller.account_id if caller else None, status)
        level = logging.WARNING if status[:1] in ("4", "5") else logging.INFO
        if log.isEnabledFor(level):
            service, action = describe_call(environ)
            millis = (time.perf_counter() - began) * 1000
            account = caller.account_id if caller else "-"
            log.log(level, "%s %s %s -> %s (%.0f ms)", account, service, action, status, millis)
        return body


def _buffer_form_body(environ: dict[str, Any]) -> None:
    """Read a query-protocol body into a BytesIO (moto reads it again) for the access log."""
    import io

    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if length and not isinstance(environ.get("wsgi.input"), io.BytesIO):
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))


def describe_call(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, action) of an AWS request, for the access log; best effort."""
    import io
    from urllib.parse import parse_qs

    parts = api_log.credential_scope(environ)
    service = parts[3] if len(parts) > 3 else "?"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
    stream = environ.get("wsgi.input")
    if not action and isinstance(stream, io.BytesIO):
        text = stream.getvalue()[:4096].decode("utf-8", "replace")
        action = parse_qs(text).get("Action", [""])[0]
    return service, action or f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"


def _register_builtin_routes(context: ServerContext) -> None:
    from meshlink.localcloud import clock, inventory

    def health(_: admin.AdminRequest) -> dict[str, Any]:
        return {
            "status": "ok",
            "pid": os.getpid(),
            "uptime_seconds": round(time.time() - context.started_at, 3),
            "extensions_loaded": context.extensions_loaded,
            "extensions_failed": context.extensions_failed,
            "timing": clock.current().to_dict(),
        }

    def version(_: admin.AdminRequest) -> dict[str, str]:
        import moto

        return {"meshlink": __version__, "moto": moto.__version__}

    def summary(_: admin.AdminRequest) -> dict[str, Any]:
        with context.moto_lock:
            return inventory.summary()

    admin.register_route("/health", health)
    admin.register_route("/version", version)
    admin.register_route("/summary", summary)
    admin.register_route("/routes", lambda _: {"routes": admin.routes()})
    api_log.register()


def _start_extensions(context: ServerContext) -> list[Callable[[], None]]:
    stoppers: list[Callable[[], None]] = []
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue
            context.extensions_failed[name] = repr(error)
            log.exception("extension %s failed to import", name)
            continue
        try:
            start = getattr(module, "start", None)
            stopper = start(context) if callable(start) else None
        except Exception as error:
            context.extensions_failed[name] = repr(error)
            log.exception("extension %s failed to start", name)
            continue
        context.extensions_loaded.append(name)
        if callable(stopper):
            stoppers.append(stopper)
        elif callable(getattr(module, "stop", None)):
            stoppers.append(functools.partial(module.stop, context))
    return stoppers


def _lighter_dispatch() -> None:
    """Drop work moto 5.2.5 repeats on every request, all of it under the one lock.

    What AWS answers is unchanged; only recomputations go (measured in bench/RESULTS.md,
    "Makespan"):

    * routing a request listed moto's package directory and stat'ed each of its ~170
      entries, twice a request; the list is fixed once moto is imported;
    * every request looked up the response class's methods with ``inspect.getmembers``;
      a class's methods are fixed once the patches are installed (before serving);
    * every error response rebuilt the service's whole error-code table (the factory's
      cache lived on a fresh instance); the tables now outlive the call.
    """
    import moto.backends
    import moto.core.errors
    import moto.core.responses

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules
    responses: Any = moto.core.responses
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    tables: dict[str, Any] = {}
    factory = moto.core.errors.ErrorLookupFactory

    def shared_tables(self: Any) -> None:
        self._error_lut_cache = tables

    factory.__init__ = shared_tables  # type: ignore[method-assign]


def serve(port: int, state_dir: Path, timing: Any = None) -> None:
    """Run the local cloud in this process until SIGTERM/SIGINT.

    `timing` (a :class:`meshlink.localcloud.clock.Timing`; None: instant) is set first,
    so every patch and the data plane see it.
    """
    from werkzeug.serving import make_server

    from meshlink.localcloud import clock, patches

    clock.configure(timing or clock.Timing())
    patches.install()
    _lighter_dispatch()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    lock = threading.RLock()
    app = LocalCloudApp(DomainDispatcherApplication(create_backend_app), lock)
    server = make_server(
        info.BIND_ADDRESS, port, app, threaded=True, request_handler=MotoRequestHandler
    )
    bound_port = int(server.server_address[1])
    context = ServerContext(
        endpoint_url=info.endpoint_for(bound_port),
        port=bound_port,
        state_dir=state_dir,
        log_file=state_dir / info.LOG_FILE,
        started_at=time.time(),
        moto_lock=lock,
    )
    _register_builtin_routes(context)
    stoppers = _start_extensions(context)

    def _terminate(signum: int, _frame: Any) -> None:
        log.info("signal %s: shutting down", signum)
        context.shutdown_event.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    record = info.LocalCloudInfo(
        endpoint_url=context.endpoint_url,
        port=bound_port,
        pid=os.getpid(),
        state_dir=str(state_dir),
        log_file=str(context.log_file),
        started_at=context.started_at,
        version=__version__,
        timing=clock.current().to_dict(),
    )
    info.write_state(state_dir, record)
    log.info(
        "local cloud listening on %s (pid %s), timing %s",
        context.endpoint_url,
        os.getpid(),
        clock.current().describe(),
    )
    try:
        server.serve_forever()
    finally:
        for stop in reversed(stoppers):
            try:
                stop()
            except Exception:
                log.exception("extension stop failed")
        server.server_close()
        info.clear_state(state_dir, os.getpid())
        log.info("local cloud stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meshlink.localcloud.server")
    parser.add_argument("--port", type=int, default=info.default_port())
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument(
        "--timing", default=None, help="instant | aws (default $MESHLINK_LOCAL_TIMING)"
    )
    parser.add_argument("--time-scale", default=None, help="F: AWS durations x F")
    parser.add_argument("--consistency", default=None, help="on | off (default: on under aws)")
    args = parser.parse_args(argv)
    from meshlink import collector
    from meshlink.localcloud import clock

    # moto's backends are many long-lived objects: at CPython's default thresholds a
    # quarter of the server's CPU went to collections that paused every request.
    collector.tune_thresholds()

    timing = clock.parse(args.timing, args.time_scale, args.consistency)
    # moto gives every new account-region ~6,500 public AMIs (and a volume for each):
    # 0.1-0.5 s under the lock per account, for images no meshlink stack uses (Fargate).
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    directory = info.state_dir(args.state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serve(args.port, directory, timing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
