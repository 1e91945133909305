"""The [experts] and [appointments] sections: defaults, overrides, clear refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callrouter.config import Config
from callrouter.errors import ConfigError


def test_defaults() -> None:
    config = Config.from_mapping({})
    assert [domain.key for domain in config.experts.domains] == [
        "lighting",
        "hvac",
        "knx",
        "access-control",
    ]
    assert (config.experts.hours, config.experts.queue) == ("coordinators", "experts")
    policy = config.appointments.policy
    assert config.appointments.window == "appointments"
    assert (policy.slot_length, policy.minimum_notice, policy.horizon) == (
        timedelta(minutes=30),
        timedelta(days=7),
        timedelta(weeks=8),
    )
    assert policy.full_refund_notice == timedelta(hours=24)
    calls = config.appointments.calls
    assert (calls.guarantee, calls.retry_delay, calls.warn_after) == (
        timedelta(minutes=15),
        timedelta(minutes=5),
        timedelta(minutes=5),
    )


def test_overrides() -> None:
    config = Config.from_mapping(
        {
            "experts": {"domains": [{"key": "knx", "label": "KNX"}], "hours": "severity"},
            "appointments": {"slot_minutes": 45, "minimum_notice_days": 2, "horizon_weeks": 4},
        }
    )
    assert [domain.key for domain in config.experts.domains] == ["knx"]
    assert config.appointments.policy.slot_length == timedelta(minutes=45)
    calls = Config.from_mapping({"appointments": {"retry_minutes": 3}}).appointments.calls
    assert calls.retry_delay == timedelta(minutes=3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"experts": {"hours": "nights"}}, "experts.hours: 'nights' is not a calendar window"),
        ({"experts": {"domains": []}}, "experts.domains: expected a non-empty list"),
        (
            {"experts": {"domains": [{"key": "KNX", "label": "KNX"}]}},
            "experts.domains[0]: domain key 'KNX'",
        ),
        (
            {"experts": {"domains": [{"key": "knx", "label": "a"}, {"key": "knx", "label": "b"}]}},
            "experts.domains[1]: domain 'knx' is listed twice",
        ),
        ({"experts": {"queue": "a b"}}, "experts.queue: 'a b' is not a valid queue name"),
        ({"appointments": {"slot_minutes": 20}}, "appointments.slot_minutes: 20 is not a whole"),
        (
            {"appointments": {"warn_after_minutes": 15}},
            "appointments: the warning comes before the guarantee breaks",
        ),
        ({"appointments": {"window": "nope"}}, "appointments.window: 'nope' is not a calendar"),
        (
            {"appointments": {"minimum_notice_days": 14, "horizon_weeks": 2}},
            "appointments: the horizon lies beyond the minimum notice",
        ),
        ({"appointments": {"slots": 3}}, "appointments.slots: unknown key"),
    ],
)
def test_refusals(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Config.from_mapping(data)
