"""Loading and validating the TOML configuration."""

from __future__ import annotations

import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callrouter.calendar import (
    PARIS,
    OutsideWindow,
    PublicHolidays,
    TimeRange,
    Weekday,
    WeeklyWindow,
    is_open,
)
from callrouter.config import Config, load_config
from callrouter.errors import ConfigError
from callrouter.passes import Pass

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "callrouter.toml"


def config_of(text: str) -> Config:
    return Config.from_mapping(tomllib.loads(text))


def test_no_file_gives_the_spec_defaults() -> None:
    config = load_config(None)
    assert config.ami.port == 5038
    assert config.database.url == "sqlite+aiosqlite:///callrouter.db"
    assert config.database.journal_dir == "callrouter-journal"
    assert (config.http.host, config.http.port) == ("127.0.0.1", 8080)
    policy = config.routing_policy()
    assert policy.pass_digits == {"1": Pass.FOUR_HOURS, "2": Pass.APPOINTMENT, "3": Pass.PRIORITY}
    assert policy.default_pass is Pass.FOUR_HOURS
    assert policy.priorities == {Pass.FOUR_HOURS: 0, Pass.APPOINTMENT: 0, Pass.PRIORITY: 10}
    assert policy.max_pin_attempts == 3
    calendar = config.calendar()
    assert set(calendar.windows) == {"coordinators", "appointments", "on-call", "severity"}
    assert is_open(calendar.coordinators, datetime(2026, 3, 10, 8, 0, tzinfo=PARIS))
    assert not is_open(calendar.coordinators, datetime(2026, 4, 6, 10, 0, tzinfo=PARIS))


def test_the_example_file_loads_and_equals_the_defaults() -> None:
    assert load_config(EXAMPLE) == load_config(None)


def test_the_example_file_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in (
        "timezone",
        "holidays_country",
        "holidays_subdivision",
        "closed_on_holidays",
        "outside",
        "pass_digits",
        "default_pass",
        "priorities",
        "max_pin_attempts",
        "closed_hours",
        "insufficient_balance",
        "username",
        "secret",
        "ping_interval",
        "reconnect_max_delay",
        "url",
        "[http]",
        "[ledger]",
    ):
        assert key in text, key


def test_overrides_are_applied() -> None:
    config = config_of(
        """
        [calendar]
        timezone = "Europe/Brussels"
        holidays_country = "BE"
        [calendar.windows.coordinators]
        ranges = ["09:00-12:30", "14:00-18:00"]
        [routing]
        pass_digits = { "1" = "prioritaire", "9" = "rdv" }
        default_pass = "rdv"
        priorities = { prioritaire = 5 }
        max_pin_attempts = 2
        queues = { coordinators = "support-day", oncall = "night" }
        sounds = { refused = "custom/refused" }
        [ami]
        host = "pbx.example.org"
        port = 5039
        username = "router"
        secret = "s3cret"
        ping_interval = 5
        reconnect_max_delay = 12.5
        [database]
        url = "postgresql+asyncpg://router@db/callrouter"
        hot_pool_size = 6
        journal_dir = "/var/lib/callrouter/journal"
        [http]
        host = "0.0.0.0"
        port = 9090
        """
    )
    brussels = ZoneInfo("Europe/Brussels")
    coordinators = config.calendar().coordinators
    assert isinstance(coordinators, WeeklyWindow)
    assert coordinators.timezone == brussels
    assert coordinators.holidays == PublicHolidays("BE")
    assert coordinators.days == frozenset(Weekday(n) for n in range(5))
    assert coordinators.ranges == (
        TimeRange(time(9), time(12, 30)),
        TimeRange(time(14), time(18)),
    )
    assert not is_open(coordinators, datetime(2026, 3, 10, 13, 0, tzinfo=brussels))
    # The on-call window follows the new coordinators' hours: open over lunch.
    assert is_open(config.calendar().on_call, datetime(2026, 3, 10, 13, 0, tzinfo=brussels))
    policy = config.routing_policy()
    assert policy.pass_digits == {"1": Pass.PRIORITY, "9": Pass.APPOINTMENT}
    assert policy.default_pass is Pass.APPOINTMENT
    assert policy.priorities == {Pass.FOUR_HOURS: 0, Pass.APPOINTMENT: 0, Pass.PRIORITY: 5}
    assert policy.max_pin_attempts == 2
    assert (policy.coordinators_queue, policy.oncall_queue) == ("support-day", "night")
    assert policy.refused_sound == "custom/refused"
    assert policy.closed_sound == "callrouter/closed-hours"
    assert (config.ami.host, config.ami.port, config.ami.username) == (
        "pbx.example.org",
        5039,
        "router",
    )
    assert config.ami.secret == "s3cret"
    assert (config.ami.ping_interval, config.ami.reconnect_max_delay) == (5.0, 12.5)
    assert config.database.url == "postgresql+asyncpg://router@db/callrouter"
    assert config.database.hot_pool_size == 6
    assert config.database.journal_dir == "/var/lib/callrouter/journal"
    assert (config.http.host, config.http.port) == ("0.0.0.0", 9090)


def test_the_ami_secret_stays_out_of_logs() -> None:
    config = config_of('[ami]\nsecret = "s3cret"')
    assert "s3cret" not in repr(config)


def test_a_new_window_and_a_window_outside_another() -> None:
    config = config_of(
        """
        [calendar.windows.workshop]
        days = ["sat"]
        ranges = ["09:00-12:00"]
        closed_on_holidays = false
        [calendar.windows.workshop-closed]
        outside = "workshop"
        """
    )
    calendar = config.calendar()
    workshop = calendar.window("workshop")
    assert workshop == WeeklyWindow(
        frozenset({Weekday.SAT}), (TimeRange(time(9), time(12)),), closed_on_holidays=False
    )
    assert calendar.window("workshop-closed") == OutsideWindow(workshop)
    assert list(calendar.windows) == [
        "coordinators",
        "appointments",
        "on-call",
        "severity",
        "workshop",
        "workshop-closed",
    ]


def test_on_call_given_its_own_hours_needs_both_days_and_ranges() -> None:
    with pytest.raises(ConfigError, match=r"calendar\.windows\.on-call\.days: missing"):
        config_of('[calendar.windows.on-call]\nranges = ["18:00-08:00"]')


def test_on_call_may_be_given_its_own_hours() -> None:
    config = config_of(
        """
        [calendar.windows.on-call]
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        ranges = ["18:00-08:00"]
        closed_on_holidays = false
        """
    )
    on_call = config.calendar().on_call
    assert isinstance(on_call, WeeklyWindow)
    assert not is_open(on_call, datetime(2026, 3, 14, 12, 0, tzinfo=PARIS))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[calendar.windows.coordinators]\nranges = ["08:00-12:00", "14:00-25:00"]',
            r"^calendar\.windows\.coordinators\.ranges\[1\]: '25:00' is not a time HH:MM$",
        ),
        (
            '[calendar.windows.coordinators]\nranges = ["8h-18h"]',
            r"calendar\.windows\.coordinators\.ranges\[0\]: '8h' is not a time HH:MM",
        ),
        (
            '[calendar.windows.coordinators]\nranges = ["08:00"]',
            r"ranges\[0\]: '08:00' is not a range HH:MM-HH:MM",
        ),
        (
            "[calendar.windows.coordinators]\nranges = []",
            r"calendar\.windows\.coordinators\.ranges: must not be empty",
        ),
        (
            '[calendar.windows.coordinators]\ndays = ["mon", "lundi"]',
            r"calendar\.windows\.coordinators\.days\[1\]: 'lundi' is not a day of the week",
        ),
        (
            '[calendar.windows.coordinators]\nclosed_on_holidays = "yes"',
            r"calendar\.windows\.coordinators\.closed_on_holidays: expected true or false",
        ),
        (
            '[calendar.windows.lunch]\ndays = ["mon"]',
            r"calendar\.windows\.lunch\.ranges: missing; a window needs days and ranges",
        ),
        (
            '[calendar.windows.on-call]\noutside = "coordinator"',
            r"calendar\.windows\.on-call\.outside: 'coordinator' is not a window with days "
            r"and ranges .*did you mean 'coordinators'\?",
        ),
        (
            '[calendar.windows.on-call]\noutside = "coordinators"\nranges = ["18:00-08:00"]',
            r"calendar\.windows\.on-call\.ranges: a window defined as 'outside' another",
        ),
        (
            '[calendar]\ntimezone = "Europe/Pariss"',
            r"calendar\.timezone: 'Europe/Pariss' is not a known time zone; "
            r"did you mean 'Europe/Paris'\?",
        ),
        ('[calendar]\ntimezone = "../etc"', r"calendar\.timezone: '\.\./etc' is not a known"),
        ('[calendar]\nholidays_country = "XX"', r"calendar\.holidays_country: .*XX"),
        (
            '[calendar]\nholidays_subdivision = "99"',
            r"calendar\.holidays_subdivision: .*99",
        ),
        (
            "[routing]\nmax_pin_attempt = 3",
            r"routing\.max_pin_attempt: unknown key; "
            r"did you mean 'max_pin_attempts'\?",
        ),
        ("[routing]\nmax_pin_attempts = 0", r"routing\.max_pin_attempts: 0 is out of range"),
        ("[routing]\nmax_pin_attempts = true", r"routing\.max_pin_attempts: expected a whole"),
        (
            '[routing]\ndefault_pass = "4H"',
            r"routing\.default_pass: '4H' is not a pass \(one of: 4h, rdv, prioritaire\)",
        ),
        (
            '[routing.pass_digits]\n"1" = "priority"',
            r"routing\.pass_digits\.1: 'priority' is not a pass .*did you mean 'prioritaire'\?",
        ),
        (
            '[routing.pass_digits]\n"12" = "4h"',
            r"routing\.pass_digits\.12: '12' is not one telephone key",
        ),
        ("[routing.priorities]\nurgent = 5", r"routing\.priorities\.urgent: unknown key"),
        ("[routing.priorities]\nprioritaire = -1", r"routing\.priorities\.prioritaire: -1 is out"),
        (
            '[routing.queues]\ncoordinators = "day queue"',
            r"routing\.queues\.coordinators: 'day queue' is not a valid queue name",
        ),
        (
            '[routing.sounds]\nclosed = "x"',
            r"routing\.sounds\.closed: unknown key; did you mean "
            r"'closed_hours'\?",
        ),
        ("[ami]\nport = 70000", r"ami\.port: 70000 is out of range \(1 to 65535\)"),
        ('[ami]\nport = "5038"', r"ami\.port: expected a whole number, got '5038'"),
        ("[ami]\nping_interval = 0", r"ami\.ping_interval: must be more than 0 seconds"),
        ('[ami]\nhost = ""', r"ami\.host: must not be empty"),
        ("[http]\nport = true", r"http\.port: expected a whole number"),
        ("[database]\nurl = 5", r"database\.url: expected a text"),
        ("[database]\nhot_pool_size = 0", r"database\.hot_pool_size: 0 is out of range"),
        ("[database]\njournal_dir = ''", r"database\.journal_dir: must not be empty"),
        ("[database]\npool_size = 4", r"database\.pool_size: unknown key"),
        ("[databse]\nurl = 'x'", r"^databse: unknown key; did you mean 'database'\?"),
        ("ami = 5", r"^ami: expected a table"),
    ],
)
def test_validation_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_of(text)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=r"nowhere\.toml: no such configuration file"):
        load_config(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[ami\nport = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_config(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[http]\nport = 99999\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"wrong\.toml: http\.port: 99999 is out of range"):
        load_config(wrong)


def test_ledger_section_is_validated_by_the_ledger() -> None:
    config = config_of("[ledger]\ncode_validity_days = 30")
    assert config.ledger.code_validity == timedelta(days=30)
    with pytest.raises(ConfigError, match="ledger"):
        config_of("[ledger]\ncode_validity_days = -3")
