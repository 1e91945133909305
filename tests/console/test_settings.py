"""The [console] and [metrics] configuration keys: defaults and refusals with the key named."""

from __future__ import annotations

import pytest

from callrouter.config import Config, ConsoleConfig, MetricsConfig
from callrouter.errors import ConfigError


def test_defaults() -> None:
    config = Config.from_mapping({})
    assert config.console == ConsoleConfig()
    assert config.console.window_minutes == 60 and config.console.service_level_seconds == 20
    assert config.metrics == MetricsConfig()
    assert config.metrics.enabled is False


def test_values_are_read() -> None:
    config = Config.from_mapping(
        {
            "console": {"window_minutes": 30, "secure_cookie": True, "push_interval": 0.1},
            "metrics": {"enabled": True, "token": "t" * 32},
        }
    )
    assert config.console.window_minutes == 30
    assert config.console.secure_cookie is True
    assert config.console.push_interval == 0.1
    assert config.metrics.token == "t" * 32


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"console": {"push_interval": 2}}, "console.push_interval: 2.0 is more than 1 second"),
        ({"console": {"chart_bucket_minutes": 7}}, "console.chart_bucket_minutes: 7 does not"),
        ({"console": {"window_minute": 5}}, "did you mean 'window_minutes'"),
        ({"console": {"session_minutes": 0}}, "console.session_minutes: 0 is out of range"),
        ({"metrics": {"token": "short"}}, "metrics.token: at least 32 characters"),
        ({"metrics": {"port": 70000}}, "metrics.port: 70000 is out of range"),
    ],
)
def test_mistakes_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Config.from_mapping(data)


def test_the_documented_file_loads_with_the_defaults() -> None:
    from pathlib import Path

    from callrouter.config import load_config

    path = Path(__file__).resolve().parents[2] / "config" / "callrouter.toml"
    config = load_config(path)
    assert config.console == ConsoleConfig()
    assert config.metrics == MetricsConfig()
