"""The [callbacks] section: defaults from the SPEC, each key read, mistakes named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.rules import GuaranteeClock
from callrouter.config import Config
from callrouter.errors import ConfigError


def test_defaults_are_the_spec_s() -> None:
    config = Config.from_mapping({}).callbacks
    assert config == CallbacksConfig()
    assert config.policy.guarantee == timedelta(hours=4)
    assert config.policy.clock is GuaranteeClock.BUSINESS_HOURS
    assert config.policy.retry_delay == timedelta(minutes=10)
    assert config.policy.warn_before == timedelta(minutes=30)


def test_every_key_is_read() -> None:
    config = Config.from_mapping(
        {
            "callbacks": {
                "guarantee_hours": 8,
                "clock": "wall-clock",
                "window": "severity",
                "retry_delay_minutes": 5,
                "max_customer_tries": 3,
                "warn_before_minutes": 45,
                "expert_ring_timeout": 20,
                "customer_ring_timeout": 40.5,
                "placement_retry": 5,
                "claim_ahead": 0.25,
                "timer_horizon_minutes": 30,
                "sweep_interval": 10,
                "takeover_interval": 2,
            }
        }
    ).callbacks
    assert config.policy.guarantee == timedelta(hours=8)
    assert config.policy.clock is GuaranteeClock.WALL_CLOCK
    assert (config.window, config.policy.max_customer_tries) == ("severity", 3)
    assert config.policy.retry_delay == timedelta(minutes=5)
    assert config.policy.warn_before == timedelta(minutes=45)
    assert config.customer_ring_timeout == timedelta(seconds=40.5)
    assert config.claim_ahead == timedelta(milliseconds=250)
    assert config.timer_horizon == timedelta(minutes=30)
    assert config.takeover_interval == timedelta(seconds=2)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"clock": "sundial"}, "callbacks.clock"),
        ({"window": "lunch"}, "callbacks.window: no calendar window 'lunch'"),
        ({"max_customer_tries": 0}, "callbacks.max_customer_tries: 0 is out of range"),
        ({"retry_delay": 10}, "callbacks.retry_delay: unknown key"),
        ({"sweep_interval": 0}, "callbacks.sweep_interval: must be more than 0 seconds"),
    ],
)
def test_mistakes_name_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_mapping({"callbacks": section})
