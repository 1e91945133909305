"""Settling a long-running process's heap once it has started."""

from __future__ import annotations

import gc


def settle_heap(*, collect_cycles: bool = True) -> None:
    """Once started: what start-up built (about 150,000 modules, types, functions) moves to
    the collector's permanent generation. Every full collection scanned it again, ~80 ms
    of CPU on the event loop each time, which made the p99 of requests and of routing; in
    the PBX simulator the same pauses bunched a run's events into bursts no Asterisk (which
    has no collector) sends.

    `collect_cycles=False` also turns the cyclic collector off, for a process whose code
    frees everything by reference counting (the simulator: tests/pbxsim/test_heap.py).
    Even with nothing to find, its full passes over thousands of live calls held the
    simulator's loop for 20-80 ms at 400 calls/s. What is left to leak is asyncio's: a
    closed TCP connection's transport stays in a cycle with its own read callback, about
    ten objects per connection, which a simulator serving a router's few connections can
    carry."""
    gc.collect()
    gc.freeze()
    if not collect_cycles:
        gc.disable()
