"""Queue figures over a sliding window, and the per-bucket history behind the console's chart.

Pure rules: no I/O, no clock of their own (every call says what time it is). Wallboards that
reset their figures at midnight mislead a hotline open around the clock, so every figure here
covers the last `window` whatever the hour.

Each queue keeps its outcomes (answered or abandoned, with the caller's wait) in arrival
order with running totals: recording an outcome and reading the figures cost O(1)
amortised, however busy the window, so the console's cost does not grow with the traffic.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class WindowSettings:
    window: timedelta = timedelta(minutes=60)
    #: Service level: answered within this wait.
    service_level_within: timedelta = timedelta(seconds=20)
    bucket: timedelta = timedelta(minutes=15)
    history: timedelta = timedelta(hours=12)

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or self.bucket <= timedelta(0):
            raise ValueError("the window and the bucket must be positive")
        if self.history % self.bucket:
            raise ValueError("the history must be a whole number of buckets")


@dataclass(frozen=True)
class QueueFigures:
    """One queue over the window. Rates are None while no caller was answered or
    abandoned (no traffic is not a 0 % service level); waits are in seconds."""

    answered: int
    abandoned: int
    abandon_rate: float | None
    service_level: float | None
    average_wait: float | None
    longest_wait: float | None


@dataclass(frozen=True)
class Bucket:
    """One slice of the chart: calls answered and abandoned in it, and the most callers
    seen waiting at once (all queues together)."""

    start: datetime
    answered: int
    abandoned: int
    peak_waiting: int


@dataclass(frozen=True)
class _Outcome:
    at: datetime
    wait: float
    answered: bool
    within: bool


class _QueueWindow:
    __slots__ = ("_longest", "_outcomes", "abandoned", "answered", "wait_sum", "within")

    def __init__(self) -> None:
        self._outcomes: deque[_Outcome] = deque()
        # The outcomes that could still be the longest wait: waits decreasing from the left
        # (a sliding-window maximum).
        self._longest: deque[_Outcome] = deque()
        self.answered = 0
        self.abandoned = 0
        self.within = 0
        self.wait_sum = 0.0

    def add(self, outcome: _Outcome) -> None:
        self._outcomes.append(outcome)
        while self._longest and self._longest[-1].wait <= outcome.wait:
            self._longest.pop()
        self._longest.append(outcome)
        self._count(outcome, 1)

    def prune(self, since: datetime) -> None:
        outcomes = self._outcomes
        while outcomes and outcomes[0].at < since:
            old = outcomes.popleft()
            self._count(old, -1)
            if self._longest and self._longest[0] is old:
                self._longest.popleft()

    def _count(self, outcome: _Outcome, sign: int) -> None:
        if outcome.answered:
            self.answered += sign
            self.within += sign if outcome.within else 0
        else:
            self.abandoned += sign
        self.wait_sum += sign * outcome.wait

    def figures(self) -> QueueFigures:
        total = self.answered + self.abandoned
        if total == 0:
            return QueueFigures(0, 0, None, None, None, None)
        return QueueFigures(
            answered=self.answered,
            abandoned=self.abandoned,
            abandon_rate=self.abandoned / total,
            service_level=self.within / total,
            average_wait=max(0.0, self.wait_sum) / total,
            longest_wait=self._longest[0].wait,
        )


class QueueStatistics:
    """Answered and abandoned callers per queue, and waiting callers over time."""

    def __init__(self, settings: WindowSettings | None = None) -> None:
        self.settings = settings or WindowSettings()
        self._queues: dict[str, _QueueWindow] = {}
        # Bucket index -> [answered, abandoned, peak waiting, last waiting], all queues.
        self._buckets: dict[int, list[int]] = {}
        self._waiting: dict[str, int] = {}

    def answered(self, queue: str, at: datetime, wait_seconds: float) -> None:
        self._outcome(queue, at, wait_seconds, answered=True)

    def abandoned(self, queue: str, at: datetime, wait_seconds: float) -> None:
        self._outcome(queue, at, wait_seconds, answered=False)

    def _outcome(self, queue: str, at: datetime, wait_seconds: float, *, answered: bool) -> None:
        wait = max(0.0, wait_seconds)
        within = answered and wait <= self.settings.service_level_within.total_seconds()
        window = self._queues.get(queue)
        if window is None:
            window = self._queues[queue] = _QueueWindow()
        window.add(_Outcome(at, wait, answered, within))
        self._bucket(at)[0 if answered else 1] += 1

    def waiting(self, queue: str, at: datetime, count: int) -> None:
        """How many callers wait in `queue` now; the chart keeps each bucket's peak of the
        total over all queues."""
        self._waiting[queue] = count
        bucket = self._bucket(at)
        total = sum(self._waiting.values())
        bucket[2] = max(bucket[2], total)
        bucket[3] = total

    def _bucket(self, at: datetime) -> list[int]:
        index = self._index(at)
        bucket = self._buckets.get(index)
        if bucket is None:
            total = sum(self._waiting.values())
            bucket = self._buckets[index] = [0, 0, total, total]
            self._forget_buckets_before(index - self._bucket_count() + 1)
        return bucket

    def _index(self, at: datetime) -> int:
        return int(at.timestamp() // self.settings.bucket.total_seconds())

    def _bucket_count(self) -> int:
        return self.settings.history // self.settings.bucket

    def _forget_buckets_before(self, first: int) -> None:
        for index in [index for index in self._buckets if index < first]:
            del self._buckets[index]

    def figures(self, queue: str, now: datetime) -> QueueFigures:
        window = self._queues.get(queue)
        if window is None:
            return QueueFigures(0, 0, None, None, None, None)
        window.prune(now - self.settings.window)
        return window.figures()

    def history(self, now: datetime) -> list[Bucket]:
        """The chart's buckets, oldest first, ending with the one `now` falls in; a bucket
        without any record shows as its peak the callers left waiting by the one before."""
        last = self._index(now)
        count = self._bucket_count()
        self._forget_buckets_before(last - count + 1)
        seconds = self.settings.bucket.total_seconds()
        tzinfo = now.tzinfo
        buckets: list[Bucket] = []
        carried = 0
        for index in range(last - count + 1, last + 1):
            found = self._buckets.get(index)
            start = datetime.fromtimestamp(index * seconds, tz=tzinfo)
            if found is None:
                buckets.append(Bucket(start, 0, 0, carried))
            else:
                buckets.append(Bucket(start, found[0], found[1], found[2]))
                carried = found[3]
        return buckets
