"""Settling a started process's heap: start-up's objects frozen, the collector kept or not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from callrouter.heap import settle_heap


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


@pytest.mark.parametrize("collect_cycles", [True, False])
def test_start_up_objects_are_frozen_and_the_collector_kept_as_asked(
    collect_cycles: bool,
) -> None:
    gc.unfreeze()
    settle_heap(collect_cycles=collect_cycles)
    assert gc.get_freeze_count() > 1_000
    assert gc.isenabled() is collect_cycles
