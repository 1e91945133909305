"""The hotline's Prometheus metrics, in a registry of their own (one per app, so tests and
several apps in one process do not collide).

Counted on the existing hooks, never on the callers' path beyond an increment: routing
decisions (the router's record callback), the PBX link (AMI connected/disconnected
handlers; reconnects read from the client's own counters at scrape), waiting callers (read
from the live view at scrape), ledger movements (read from the database by a periodic task,
see callrouter.metrics.ledger), HTTP requests (a middleware). Gauges for callbacks are
registered by the callbacks feature with `register_callback_gauges`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from callrouter.routing.service import RoutedCall

#: Routing latency buckets (seconds): the target is 5 ms at p99.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


@dataclass(frozen=True)
class CallbackCounts:
    pending: int
    at_risk: int
    breached: int


@dataclass
class LedgerTotals:
    """Movements so far, as last read from the database."""

    debits: int = 0
    debited_points: int = 0
    refunds: int = 0
    refunded_points: int = 0


class _Collected(Collector):
    """Values read when Prometheus scrapes: nothing to update on the hot path."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return self._collect()


class HotlineMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.routed = Counter(
            "callrouter_calls_routed",
            "Calls routed, by target and reason",
            ["target", "reason"],
            registry=self.registry,
        )
        self.routing_latency = Histogram(
            "callrouter_routing_latency_seconds",
            "HotlineCall read from the AMI to Redirect written",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.failsafes = Counter(
            "callrouter_failsafes",
            "Callers the dialplan queued itself, without a routing decision",
            registry=self.registry,
        )
        self.http_requests = Counter(
            "callrouter_http_requests",
            "HTTP requests by route (its template) and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.ledger = LedgerTotals()
        #: Where the own listener serves /metrics (host, port), once started.
        self.address: tuple[str, int] | None = None
        self._ami: Callable[[], tuple[bool, int]] | None = None
        self._waiting: Callable[[], Sequence[tuple[str, int]]] | None = None
        self.registry.register(_Collected(self._collect))

    # -- hooks ------------------------------------------------------------------------------

    def on_routed(self, routed: RoutedCall) -> None:
        decision = routed.decision
        self.routed.labels(decision.target.value, reason_kind(decision.reason)).inc()
        self.routing_latency.observe(routed.latency_ms / 1000)

    def on_failsafe(self, _uniqueid: str) -> None:
        self.failsafes.inc()

    def watch_ami(self, read: Callable[[], tuple[bool, int]]) -> None:
        """`read()` gives (link up, reconnects so far)."""
        self._ami = read

    def watch_waiting(self, read: Callable[[], Sequence[tuple[str, int]]]) -> None:
        """`read()` gives (queue, callers waiting) for every queue."""
        self._waiting = read

    # -- scrape -----------------------------------------------------------------------------

    def _collect(self) -> Iterable[Metric]:
        if self._ami is not None:
            up, reconnects = self._ami()
            yield GaugeMetricFamily(
                "callrouter_ami_up", "1 while the PBX link is up", value=int(up)
            )
            yield CounterMetricFamily(
                "callrouter_ami_reconnects", "PBX link reconnections", value=reconnects
            )
        if self._waiting is not None:
            waiting = GaugeMetricFamily(
                "callrouter_queue_waiting_callers", "Callers waiting, per queue", labels=["queue"]
            )
            for queue, count in self._waiting():
                waiting.add_metric([queue], count)
            yield waiting
        ledger = self.ledger
        for name, help_text, value in (
            ("callrouter_ledger_debits", "Debit movements", ledger.debits),
            ("callrouter_ledger_debited_points", "Points debited", ledger.debited_points),
            ("callrouter_ledger_refunds", "Refund movements", ledger.refunds),
            ("callrouter_ledger_refunded_points", "Points refunded", ledger.refunded_points),
        ):
            yield CounterMetricFamily(name, help_text, value=value)


def reason_kind(reason: str) -> str:
    """A routing reason as a label: its words before the first detail (":", ";", "(" or
    ","), without the words that have no letter (numbers), so that a reason's numbers
    cannot blow up the label's values."""
    head = reason
    for separator in ":;(,":
        head = head.split(separator, 1)[0]
    words = [word for word in head.split() if any(character.isalpha() for character in word)]
    return " ".join(words)[:60] or "none"


def register_callback_gauges(metrics: HotlineMetrics, read: Callable[[], CallbackCounts]) -> None:
    """For the callbacks feature: gauges of callbacks pending, at risk and breached, read
    with `read()` at each scrape."""

    def collect() -> Iterable[Metric]:
        counts = read()
        gauge = GaugeMetricFamily("callrouter_callbacks", "Callbacks by state", labels=["state"])
        gauge.add_metric(["pending"], counts.pending)
        gauge.add_metric(["at_risk"], counts.at_risk)
        gauge.add_metric(["breached"], counts.breached)
        yield gauge

    metrics.registry.register(_Collected(collect))
