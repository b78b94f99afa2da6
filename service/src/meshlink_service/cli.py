"""Command line: ``meshlink-service [serve]`` and ``meshlink-service probe URL``.

The only place that turns errors into exit codes. Heavy imports (FastAPI,
uvicorn, httpx) happen only once we know we are serving with a valid config.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from meshlink_service import __version__

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meshlink-service",
        description="meshlink's microservice. Without a command it serves HTTP, "
        "configured by the environment (SERVICE_NAME, PORT, HOST, BIND_ADDRESS, "
        "PEER_<NAME>_URL, ...).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{serve,probe,probe-all}")
    commands.add_parser("serve", help="serve HTTP (the default)")
    probe = commands.add_parser(
        "probe",
        help="GET a URL once; exit 0 only on 200 with the expected service name",
        description="Exit codes: 0 ok, 10 unreachable (refused, no route, DNS), "
        "11 timeout, 12 status other than 200, 13 wrong service name, "
        "14 answer is not a JSON object, 2 bad usage.",
    )
    probe.add_argument("url", help="e.g. http://notification-service.internal:8080/health")
    probe.add_argument("--expect-service", metavar="NAME", help="required 'service' in the JSON")
    probe.add_argument(
        "--timeout", type=_positive_seconds, default=5.0, metavar="S", help="total (default 5)"
    )
    probe.add_argument(
        "--bind-address",
        default=os.environ.get("BIND_ADDRESS") or None,
        metavar="IP",
        help="source address of the connection (default: $BIND_ADDRESS)",
    )
    many = commands.add_parser(
        "probe-all",
        help="probe several services at once; one JSON line per target, then a done line",
        description="Each TARGET is NAME=HOST:PORT: GET http://HOST:PORT<path> and expect "
        "service NAME. All run concurrently. Exit 0 when every target was probed (the "
        "lines carry each outcome and its probe exit code), 2 bad usage.",
    )
    many.add_argument("targets", nargs="*", metavar="TARGET", help="NAME=HOST:PORT")
    many.add_argument("--path", default="/health", help="path to GET (default /health)")
    many.add_argument(
        "--timeout", type=_positive_seconds, default=5.0, metavar="S", help="each (default 5)"
    )
    many.add_argument(
        "--bind-address",
        default=os.environ.get("BIND_ADDRESS") or None,
        metavar="IP",
        help="source address of the connections (default: $BIND_ADDRESS)",
    )
    return parser


def _positive_seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{raw!r} is not in (0, 3600]")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``meshlink-service`` and ``python -m meshlink_service``."""
    args = _parser().parse_args(argv)
    if args.command == "probe":
        return _probe(args)
    if args.command == "probe-all":
        from meshlink_service.probe_all import main as probe_all

        return probe_all(
            args.targets, path=args.path, timeout=args.timeout, bind_address=args.bind_address
        )
    return _serve()


def _probe(args: argparse.Namespace) -> int:
    from meshlink_service.probe import probe

    result = probe(
        args.url,
        expect_service=args.expect_service,
        timeout=args.timeout,
        bind_address=args.bind_address,
    )
    print(result.line(), flush=True)
    return int(result.outcome)


def _serve() -> int:
    from meshlink_service.config import ConfigError, load_settings

    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"meshlink-service: invalid configuration: {exc}", file=sys.stderr, flush=True)
        return EXIT_CONFIG
    # httpx imports its command-line client (rich, pygments) whenever those happen to
    # be installed, as they are in meshlink's own venv that the local cloud runs tasks
    # from: ~40 ms of every task's start for code a server never runs. A None entry
    # makes that import fail, and httpx falls back to a stub `main` on ImportError.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from meshlink_service.server import serve

    return serve(settings)
