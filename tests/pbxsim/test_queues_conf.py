"""queues.conf read as app_queue applies it (issue 7, item 5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callrouter.errors import ConfigError
from callrouter.pbxsim import SimulatorSettings
from callrouter.pbxsim.queues_conf import parse_queues_conf
from callrouter.pbxsim.settings import DEFAULT_STRATEGIES

DIALPLANS = Path(__file__).resolve().parents[2] / "dialplans"
TRACES_CONFIG = Path(__file__).resolve().parents[2].parent / "shared" / "ami-traces" / "configs"


def test_a_static_queue_keeps_its_template_strategy() -> None:
    conf = parse_queues_conf(
        """
[general]
autofill = yes
[base](!)
strategy = rrmemory ; the template's
timeout = 15
[day](base)
member => Local/agent1@agents,0,Alice Martin,PJSIP/alice
[night](base)
strategy = ringall
member => Local/agent5@agents,0,Emma Laurent
[own]
strategy = ringall
[plain]
"""
    )
    assert conf.strategies == {
        "day": "rrmemory",
        "night": "rrmemory",
        "own": "ringall",
        "plain": "ringall",
    }
    assert conf.members["day"] == [("Local/agent1@agents", "Alice Martin")]
    assert conf.members["night"] == [("Local/agent5@agents", "Emma Laurent")]


def test_the_simulator_rings_like_the_real_pbx_with_the_shipped_queues_conf() -> None:
    """The defaults are what app_queue makes of dialplans/queues.conf: when that file
    changes (oncall really ringall, say), DEFAULT_STRATEGIES must follow it."""
    conf = parse_queues_conf((DIALPLANS / "queues.conf").read_text(encoding="utf-8"))
    assert conf.strategies == DEFAULT_STRATEGIES
    assert SimulatorSettings().strategy("oncall") == conf.strategies["oncall"]


def test_the_lab_that_recorded_the_traces_had_an_rrmemory_oncall_queue() -> None:
    # ami-traces 03 and 06 show `Strategy: rrmemory` for oncall, whose section says ringall.
    path = TRACES_CONFIG / "queues.conf"
    if not path.is_file():
        pytest.skip(f"the lab configuration is not at {path}")
    assert parse_queues_conf(path.read_text(encoding="utf-8")).strategies["oncall"] == "rrmemory"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[q](missing)\nstrategy = ringall\n", "unknown template 'missing'"),
        ("strategy = ringall\n", "expected 'key = value' in a [section]"),
    ],
)
def test_a_broken_file_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_queues_conf(text)


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ConfigError, match="strategy of queue 'oncall'"):
        SimulatorSettings(strategies={"oncall": "leastrecent"})
