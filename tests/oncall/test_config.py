"""The [oncall] configuration keys: defaults, values, and clear refusals."""

from __future__ import annotations

import tomllib

import pytest

from callrouter.config import Config, OnCallConfig
from callrouter.errors import ConfigError


def config_of(text: str) -> Config:
    return Config.from_mapping(tomllib.loads(text))


def test_defaults() -> None:
    assert Config.from_mapping({}).oncall == OnCallConfig(
        feed_base_url="http://127.0.0.1:8080", feed_days_back=7, feed_days_ahead=56
    )


def test_values() -> None:
    config = config_of(
        '[oncall]\nfeed_base_url = "https://hotline.example"\nfeed_days_back = 0\n'
        "feed_days_ahead = 90\n"
    )
    assert config.oncall == OnCallConfig("https://hotline.example", 0, 90)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('feed_base_url = "hotline.example"', "oncall.feed_base_url: 'hotline.example' is not"),
        ("feed_days_ahead = 0", "oncall.feed_days_ahead"),
        ("feed_days_back = 400", "oncall.feed_days_back"),
        ("feed_days = 3", "feed_days"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_of(f"[oncall]\n{text}\n")
