"""The [oncall] keys of emergency billing: the attach window and the maximum hold age."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from callrouter.config import Config, load_config
from callrouter.errors import ConfigError


def oncall_of(text: str) -> Config:
    return Config.from_mapping(tomllib.loads(text))


def test_defaults_attach_until_the_stretch_closes_and_void_holds_after_4_hours() -> None:
    oncall = Config.from_mapping({}).oncall
    assert (oncall.emergency_attach_minutes, oncall.max_hold_minutes) == (0, 240)


def test_the_shipped_file_gives_the_defaults() -> None:
    shipped = load_config(Path(__file__).parents[2] / "config" / "callrouter.toml").oncall
    assert (shipped.emergency_attach_minutes, shipped.max_hold_minutes) == (0, 240)


def test_values() -> None:
    oncall = oncall_of("[oncall]\nemergency_attach_minutes = 90\nmax_hold_minutes = 30\n").oncall
    assert (oncall.emergency_attach_minutes, oncall.max_hold_minutes) == (90, 30)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("max_hold_minutes = 1", "oncall.max_hold_minutes"),
        ("emergency_attach_minutes = -5", "oncall.emergency_attach_minutes"),
        ('max_hold_minutes = "4h"', "expected a whole number"),
    ],
)
def test_refusals_name_the_key(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        oncall_of(f"[oncall]\n{line}\n")
