"""bench/pin_spray.py at small scale: a spray from a few lines over a few accounts locks out
no holder, breaks into nothing, and every account answers exactly as an invented twin."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from callrouter.db.migrate import upgrade_async

BENCH = Path(__file__).resolve().parents[2] / "bench" / "pin_spray.py"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("pin_spray", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pin_spray"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


async def test_a_spray_locks_out_no_holder_and_real_answers_like_invented(
    tmp_path: Path,
) -> None:
    bench = _bench()
    runs = []
    for invented in (False, True):
        url = f"sqlite+aiosqlite:///{tmp_path / f'spray-{invented}.db'}"
        await upgrade_async(url)
        runs.append(
            await bench.run_spray(
                url, accounts=12, lines=3, attempts=300, minutes=30, invented=invented
            )
        )
    real, twin = runs
    assert real.holders_locked_out == 0
    assert real.attacker_successes == 0
    # The throttle did bite: most tries were refused unchecked.
    assert real.throttled > real.checked > 0
    assert real.answers == twin.answers
    assert set(real.answers) == set(range(12))
