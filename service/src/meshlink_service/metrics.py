"""Prometheus text exposition (format 0.0.4), written by hand.

prometheus_client would add an import and a process-global registry to every task;
the service needs two counters, two histograms and three gauges. All updates
happen on the server's single event loop thread, so no locking is needed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "meshlink_service_"
# Loopback and PrivateLink hops are milliseconds; timeouts are seconds.
LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(names: Labels, values: Labels, extra: str = "") -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass
class Counter:
    """A monotonically increasing count per label set."""

    name: str
    help: str
    label_names: Labels
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        """Add ``amount`` to the series with these label values."""
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def render(self) -> list[str]:
        """Exposition lines for this counter."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for labels, value in sorted(self.values.items()):
            lines.append(f"{self.name}{_labels(self.label_names, labels)} {_number(value)}")
        return lines


@dataclass
class _Series:
    buckets: list[int]
    total: float = 0.0
    count: int = 0


@dataclass
class Histogram:
    """Observations in cumulative buckets per label set."""

    name: str
    help: str
    label_names: Labels
    bounds: tuple[float, ...] = LATENCY_BUCKETS
    series: dict[Labels, _Series] = field(default_factory=dict)

    def observe(self, value: float, *labels: str) -> None:
        """Record one observation (seconds) for these label values."""
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = _Series(buckets=[0] * len(self.bounds))
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.bounds):
            series.buckets[index] += 1
        series.total += value
        series.count += 1

    def render(self) -> list[str]:
        """Exposition lines: cumulative ``_bucket`` series, then ``_sum`` and ``_count``."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, series in sorted(self.series.items()):
            running = 0
            for bound, hits in zip(self.bounds, series.buckets, strict=True):
                running += hits
                le = _labels(self.label_names, labels, f'le="{_number(bound)}"')
                lines.append(f"{self.name}_bucket{le} {running}")
            inf = _labels(self.label_names, labels, 'le="+Inf"')
            lines.append(f"{self.name}_bucket{inf} {series.count}")
            plain = _labels(self.label_names, labels)
            lines.append(f"{self.name}_sum{plain} {_number(series.total)}")
            lines.append(f"{self.name}_count{plain} {series.count}")
        return lines


def gauge(
    name: str, help_text: str, value: float, labels: dict[str, str] | None = None
) -> list[str]:
    """Exposition lines for a gauge computed at scrape time."""
    names = tuple(labels) if labels else ()
    values = tuple(labels.values()) if labels else ()
    return [
        f"# HELP {name} {help_text}",
        f"# TYPE {name} gauge",
        f"{name}{_labels(names, values)} {_number(value)}",
    ]


@dataclass
class ServiceMetrics:
    """The service's metrics; ``render`` adds the scrape-time gauges."""

    requests: Counter = field(
        default_factory=lambda: Counter(
            PREFIX + "http_requests_total",
            "HTTP requests served, by method, route template and status.",
            ("method", "route", "status"),
        )
    )
    latency: Histogram = field(
        default_factory=lambda: Histogram(
            PREFIX + "http_request_duration_seconds",
            "Time to serve an HTTP request, by method, route template and status.",
            ("method", "route", "status"),
        )
    )
    peer_calls: Counter = field(
        default_factory=lambda: Counter(
            PREFIX + "peer_requests_total",
            "Calls to consumed peers, by peer, kind (health, call) and result.",
            ("peer", "kind", "result"),
        )
    )
    peer_latency: Histogram = field(
        default_factory=lambda: Histogram(
            PREFIX + "peer_request_duration_seconds",
            "Duration of calls to consumed peers, by peer and kind.",
            ("peer", "kind"),
        )
    )

    def render(self, *, service: str, version: str, uptime: float, ready: bool) -> str:
        """The whole exposition, newline-terminated."""
        lines = gauge(
            PREFIX + "info",
            "Service name and version.",
            1,
            {"service": service, "version": version},
        )
        lines += gauge(PREFIX + "uptime_seconds", "Seconds since the service started.", uptime)
        lines += gauge(PREFIX + "ready", "1 when /ready answers 200.", 1 if ready else 0)
        for metric in (self.requests, self.latency, self.peer_calls, self.peer_latency):
            lines += metric.render()
        return "\n".join(lines) + "\n"
