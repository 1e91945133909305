"""The [oncall] escalation keys: defaults (30 s, 60 s, two passes), values, refusals; the
shipped callrouter.toml says the defaults; `callrouter oncall queuerules` writes the PBX's
file from them."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest

from callrouter.config import Config
from callrouter.errors import ConfigError
from callrouter.oncall.cli import register
from callrouter.oncall.escalation import EscalationPolicy

ROOT = Path(__file__).resolve().parents[2]


def config_of(text: str) -> Config:
    return Config.from_mapping(tomllib.loads(text))


def test_defaults_are_30_then_60_seconds_two_passes() -> None:
    oncall = Config.from_mapping({}).oncall

    assert oncall.escalation == EscalationPolicy(delays=(30, 60), passes=2, pass_seconds=90)
    assert oncall.roster_recheck_seconds == 60.0


def test_the_shipped_configuration_says_the_defaults() -> None:
    shipped = Config.from_mapping(
        tomllib.loads((ROOT / "config" / "callrouter.toml").read_text(encoding="utf-8"))
    )

    assert shipped.oncall.escalation == EscalationPolicy()


def test_values() -> None:
    oncall = config_of(
        "[oncall]\nescalation_delays = [20, 40]\nescalation_passes = 3\n"
        "escalation_pass_seconds = 70\nroster_recheck_seconds = 15\n"
    ).oncall

    assert oncall.escalation == EscalationPolicy(delays=(20, 40), passes=3, pass_seconds=70)
    assert oncall.roster_recheck_seconds == 15.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('escalation_delays = ["30"]', "expected a list of whole seconds"),
        ("escalation_delays = [30]", "needs 2 delays"),
        ("escalation_delays = [60, 30]", "increasing"),
        ("escalation_passes = 0", "out of range"),
        ("escalation_pass_seconds = 60", "longer than the last escalation delay"),
        ("roster_recheck_seconds = 0", "more than 0 seconds"),
    ],
)
def test_refusals_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        config_of(f"[oncall]\n{text}\n")
    assert "oncall." in str(refused.value)


def test_queuerules_prints_the_rule_of_the_configuration(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "callrouter.toml"
    config.write_text("[oncall]\nescalation_delays = [20, 45]\n", encoding="utf-8")

    parser = argparse.ArgumentParser(prog="callrouter")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["--config", str(config), "--database-url", sqlite_url, "oncall", "queuerules"]
    )
    status = args.handler(args)

    assert status == 0
    assert "penaltychange => 20,1,,1\npenaltychange => 45,2,,2\n" in capsys.readouterr().out
