"""The TOML configuration, validated once at start-up into frozen dataclasses.

Every key is optional and defaults to the SPEC; config/callrouter.toml documents them all.
A mistake gives a ConfigError naming the key path and what is wrong; an unknown key is
refused, with the closest known key suggested.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import structlog

from callrouter.appointments.config import AppointmentsConfig, parse_appointments
from callrouter.calendar import (
    PARIS,
    CalendarError,
    HotlineCalendar,
    OutsideWindow,
    PublicHolidays,
    TimeRange,
    Weekday,
    WeeklyWindow,
    Window,
    default_windows,
)
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.rules import CallbackPolicy, GuaranteeClock
from callrouter.errors import ConfigError
from callrouter.experts.config import ExpertsConfig, parse_experts
from callrouter.ledger.config import LedgerConfig, parse_ledger_config
from callrouter.oncall.escalation import EscalationPolicy
from callrouter.passes import Pass
from callrouter.routing.decision import RoutingPolicy

log = structlog.get_logger(__name__)

#: Names that end up in dialplan contexts ("queue-<name>") or sound paths.
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_SOUND = re.compile(r"[A-Za-z0-9_/.-]+")
_DTMF = frozenset("0123456789*#")
_WINDOW_KEYS = ("days", "ranges", "closed_on_holidays", "outside")

T = TypeVar("T")


@dataclass(frozen=True)
class CalendarSettings:
    timezone: ZoneInfo = PARIS
    holidays: PublicHolidays = field(default_factory=PublicHolidays)
    windows: Mapping[str, Window] = field(
        default_factory=lambda: MappingProxyType(default_windows())
    )


@dataclass(frozen=True)
class AMIConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "callrouter"
    secret: str = field(default="", repr=False)
    ping_interval: float = 20.0
    reconnect_max_delay: float = 30.0
    queue_resync_interval: float = 60.0


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite+aiosqlite:///callrouter.db"
    #: PostgreSQL: connections of the small pool kept for the statements every call runs
    #: (callrouter.db.hotpool), besides the engine's pool.
    hot_pool_size: int = 16
    #: Where the journal of message records not yet committed is kept (calls/journal.py),
    #: in a folder named after the database; a relative path is taken from the SQLite
    #: database file's folder (on PostgreSQL, from the working directory).
    journal_dir: str = "callrouter-journal"


@dataclass(frozen=True)
class HTTPConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class ConsoleConfig:
    """The supervisors' console in the browser (callrouter.console)."""

    enabled: bool = True
    #: A signed-in console stays open this long, then asks to sign in again (a shift).
    session_minutes: int = 480
    #: Mark the session cookie Secure: set it when callrouter is reached over HTTPS.
    secure_cookie: bool = False
    #: The sliding window of the queue figures (no reset at midnight).
    window_minutes: int = 60
    #: Service level: the share of callers answered within this many seconds.
    service_level_seconds: int = 20
    #: The chart: calls per `chart_bucket_minutes` over the last `chart_hours`.
    chart_hours: int = 12
    chart_bucket_minutes: int = 15
    #: Changes are gathered for this long before one update goes to every console.
    push_interval: float = 0.2
    #: Consoles connected at once; more are refused (503) so they cannot exhaust the server.
    max_consoles: int = 500


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus `/metrics` (callrouter.metrics): on its own listener (`host`, `port`), or,
    when `token` is set, on the public HTTP port behind `Authorization: Bearer <token>`."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9108
    token: str = field(default="", repr=False)


#: A metrics token shorter than this is refused: it guards the public port.
METRICS_TOKEN_MIN_LENGTH = 32


@dataclass(frozen=True)
class OnCallConfig:
    #: How technicians reach this server: the start of their iCalendar feed's URL.
    feed_base_url: str = "http://127.0.0.1:8080"
    #: Days of past and coming duties in a feed.
    feed_days_back: int = 7
    feed_days_ahead: int = 56
    #: The escalation chain Asterisk runs (dialplans/queuerules.conf and the dialplan's
    #: ONCALL_PASS_SECS, ONCALL_PASSES say the same).
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)
    #: Longest time between two readings of the roster for the PBX's on-call members:
    #: hand-offs are programmed on time, this catches the admin's changes.
    roster_recheck_seconds: float = 60.0
    #: Minutes after an emergency incident opens during which a further call of the same
    #: account joins it at no cost; 0: until the on-call stretch closes (08:00 on weekdays).
    emergency_attach_minutes: int = 0
    #: A hold pending longer than this is voided, whatever the PBX says (safety net).
    max_hold_minutes: int = 240


@dataclass(frozen=True)
class Config:
    calendar_settings: CalendarSettings = field(default_factory=CalendarSettings)
    routing: RoutingPolicy = field(default_factory=RoutingPolicy)
    ami: AMIConfig = field(default_factory=AMIConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    http: HTTPConfig = field(default_factory=HTTPConfig)
    #: Prices, packs and recharge codes; validated by the ledger's own parser.
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    #: Pass 4H callbacks: the guarantee and the dispatcher.
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    experts: ExpertsConfig = field(default_factory=ExpertsConfig)
    appointments: AppointmentsConfig = field(default_factory=AppointmentsConfig)
    oncall: OnCallConfig = field(default_factory=OnCallConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Config:
        root = _Table(data, "")
        root.reject_unknown(
            (
                *("calendar", "routing", "ami", "database", "http", "ledger"),
                *("oncall", "console", "metrics", "experts", "appointments", "callbacks"),
            )
        )
        calendar_settings = _calendar(root.table("calendar"))
        return cls(
            calendar_settings=calendar_settings,
            routing=_routing(root.table("routing")),
            ami=_ami(root.table("ami")),
            database=_database(root.table("database")),
            http=_http(root.table("http")),
            ledger=_ledger(root.table("ledger")),
            callbacks=_callbacks(root.table("callbacks"), calendar_settings),
            oncall=_oncall(root.table("oncall")),
            console=_console(root.table("console")),
            metrics=_metrics(root.table("metrics")),
            experts=parse_experts(root.table("experts"), calendar_settings.windows),
            appointments=parse_appointments(root.table("appointments"), calendar_settings.windows),
        )

    def calendar(self) -> HotlineCalendar:
        return HotlineCalendar(self.calendar_settings.windows)

    def routing_policy(self) -> RoutingPolicy:
        return self.routing


def load_config(path: Path | None) -> Config:
    """The configuration in `path`, or the defaults when there is no file."""
    if path is None:
        return Config.from_mapping({})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        config = Config.from_mapping(data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    log.info("config.loaded", path=str(path))
    return config


class _Table:
    """A TOML table and its key path, with typed, path-naming accessors."""

    def __init__(self, data: Mapping[str, object], path: str) -> None:
        self.data = data
        self.path = path

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def reject_unknown(self, known: Iterable[str]) -> None:
        known = list(known)
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                expected = ", ".join(known) or "none"
                raise ConfigError(
                    f"{self.key_path(key)}: unknown key; {hint}(expected one of: {expected})"
                )

    def table(self, key: str) -> _Table:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.key_path(key)}: expected a table, got {value!r}")
        return _Table(value, self.key_path(key))

    def text(self, key: str, default: str, *, empty_ok: bool = False) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{self.key_path(key)}: expected a text, got {value!r}")
        if not empty_ok and not value.strip():
            raise ConfigError(f"{self.key_path(key)}: must not be empty")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key, "") if key in self.data else None

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.data.get(key, default)
        # bool is an int in Python: `true` for a port is a typo, not 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{self.key_path(key)}: expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise ConfigError(f"{self.key_path(key)}: {value} is out of range ({low} to {high})")
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.key_path(key)}: expected a number of seconds, got {value!r}")
        if not value > 0:
            raise ConfigError(f"{self.key_path(key)}: must be more than 0 seconds")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key_path(key)}: expected true or false, got {value!r}")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.data.get(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{self.key_path(key)}: expected a list of texts, got {value!r}")
        if not value:
            raise ConfigError(f"{self.key_path(key)}: must not be empty")
        return value

    def name(self, key: str, default: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.text(key, default)
        if not pattern.fullmatch(value):
            raise ConfigError(f"{self.key_path(key)}: '{value}' is not a valid {what}")
        return value


def _choice(value: object, choices: Mapping[str, T], path: str, what: str) -> T:
    if isinstance(value, str) and value in choices:
        return choices[value]
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ConfigError(f"{path}: {value!r} is not a {what} (one of: {', '.join(choices)}){hint}")


_PASSES = {pass_.value: pass_ for pass_ in Pass}


# Calendar -------------------------------------------------------------------------------


def _calendar(section: _Table) -> CalendarSettings:
    section.reject_unknown(("timezone", "holidays_country", "holidays_subdivision", "windows"))
    timezone = _timezone(section)
    country = section.text("holidays_country", "FR")
    try:
        PublicHolidays(country)
    except CalendarError as error:
        raise ConfigError(f"{section.key_path('holidays_country')}: {error}") from None
    subdivision = section.optional_text("holidays_subdivision")
    try:
        holidays = PublicHolidays(country, subdivision)
    except CalendarError as error:
        raise ConfigError(f"{section.key_path('holidays_subdivision')}: {error}") from None
    windows = _windows(section.table("windows"), timezone, holidays)
    return CalendarSettings(timezone, holidays, MappingProxyType(windows))


def _timezone(section: _Table) -> ZoneInfo:
    key = section.text("timezone", "Europe/Paris")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(key, sorted(available_timezones()), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"{section.key_path('timezone')}: '{key}' is not a known time zone{hint}"
        ) from None


def _windows(section: _Table, timezone: ZoneInfo, holidays: PublicHolidays) -> dict[str, Window]:
    """Defaults overridden key by key; an outside window follows its (new) inside window."""
    defaults = default_windows(timezone, holidays)
    weekly: dict[str, WeeklyWindow] = {}
    outside: dict[str, tuple[str, str]] = {}  # name -> (inside window name, key path)
    for name in [*defaults, *(n for n in section.data if n not in defaults)]:
        table = section.table(name)
        table.reject_unknown(_WINDOW_KEYS)
        default = defaults.get(name)
        if "outside" in table.data:
            extra = sorted(set(table.data) - {"outside"})
            if extra:
                raise ConfigError(
                    f"{table.key_path(extra[0])}: a window defined as 'outside' another has "
                    "no days, ranges or holiday setting of its own"
                )
            outside[name] = (table.text("outside", ""), table.key_path("outside"))
        elif isinstance(default, OutsideWindow) and not table.data:
            outside[name] = (_name_of(default.of, defaults), table.key_path("outside"))
        else:
            base = default if isinstance(default, WeeklyWindow) else None
            weekly[name] = _weekly(table, base, timezone, holidays)
    windows: dict[str, Window] = dict(weekly)
    for name, (inside, path) in outside.items():
        of = weekly.get(inside)
        if of is None:
            close = difflib.get_close_matches(inside, list(weekly), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(
                f"{path}: '{inside}' is not a window with days and ranges "
                f"(those are: {', '.join(weekly)}){hint}"
            )
        try:
            windows[name] = OutsideWindow(of)
        except CalendarError as error:
            raise ConfigError(f"{path}: {error}") from None
    return {name: windows[name] for name in [*defaults, *section.data]}


def _name_of(window: WeeklyWindow, defaults: Mapping[str, Window]) -> str:
    return next(name for name, candidate in defaults.items() if candidate is window)


def _weekly(
    table: _Table, base: WeeklyWindow | None, timezone: ZoneInfo, holidays: PublicHolidays
) -> WeeklyWindow:
    for key in ("days", "ranges"):
        if base is None and key not in table.data:
            raise ConfigError(
                f"{table.key_path(key)}: missing; a window needs days and ranges "
                "unless it is 'outside' another window"
            )
    days = base.days if base is not None else frozenset[Weekday]()
    if "days" in table.data:
        days = frozenset(_parsed(table, "days", Weekday.parse))
    ranges = base.ranges if base is not None else ()
    if "ranges" in table.data:
        ranges = tuple(_parsed(table, "ranges", TimeRange.parse))
    closed_on_holidays = table.flag(
        "closed_on_holidays", base.closed_on_holidays if base is not None else True
    )
    try:
        return WeeklyWindow(days, ranges, closed_on_holidays, timezone, holidays)
    except CalendarError as error:
        raise ConfigError(f"{table.path}: {error}") from None


def _parsed(table: _Table, key: str, parse: Callable[[str], T]) -> list[T]:
    parsed: list[T] = []
    for index, text in enumerate(table.texts(key)):
        try:
            parsed.append(parse(text))
        except ValueError as error:
            raise ConfigError(f"{table.key_path(key)}[{index}]: {error}") from None
    return parsed


# Routing --------------------------------------------------------------------------------


def _routing(section: _Table) -> RoutingPolicy:
    section.reject_unknown(
        ("pass_digits", "default_pass", "priorities", "max_pin_attempts", "queues", "sounds")
    )
    defaults = RoutingPolicy()
    pass_digits = dict(defaults.pass_digits)
    if "pass_digits" in section.data:
        digits = section.table("pass_digits")
        pass_digits = {}
        for digit, value in digits.data.items():
            path = digits.key_path(digit)
            if len(digit) != 1 or digit not in _DTMF:
                raise ConfigError(f"{path}: '{digit}' is not one telephone key (0-9, * or #)")
            pass_digits[digit] = _choice(value, _PASSES, path, "pass")
    default_pass = defaults.default_pass
    if "default_pass" in section.data:
        default_pass = _choice(
            section.data["default_pass"], _PASSES, section.key_path("default_pass"), "pass"
        )
    priorities = dict(defaults.priorities)
    table = section.table("priorities")
    table.reject_unknown(_PASSES)
    for name in table.data:
        priorities[_PASSES[name]] = table.integer(name, 0, 0, 1_000_000)
    queues = section.table("queues")
    queues.reject_unknown(("coordinators", "oncall"))
    sounds = section.table("sounds")
    sounds.reject_unknown(("closed_hours", "refused", "insufficient_balance"))
    return RoutingPolicy(
        pass_digits=pass_digits,
        default_pass=default_pass,
        priorities=priorities,
        max_pin_attempts=section.integer("max_pin_attempts", defaults.max_pin_attempts, 1, 9),
        coordinators_queue=queues.name(
            "coordinators", defaults.coordinators_queue, _QUEUE_NAME, "queue name"
        ),
        oncall_queue=queues.name("oncall", defaults.oncall_queue, _QUEUE_NAME, "queue name"),
        closed_sound=sounds.name("closed_hours", defaults.closed_sound, _SOUND, "sound name"),
        refused_sound=sounds.name("refused", defaults.refused_sound, _SOUND, "sound name"),
        insufficient_balance_sound=sounds.name(
            "insufficient_balance", defaults.insufficient_balance_sound, _SOUND, "sound name"
        ),
    )


# Edges ----------------------------------------------------------------------------------


def _database(section: _Table) -> DatabaseConfig:
    section.reject_unknown(("url", "hot_pool_size", "journal_dir"))
    defaults = DatabaseConfig()
    return DatabaseConfig(
        url=section.text("url", defaults.url),
        hot_pool_size=section.integer("hot_pool_size", defaults.hot_pool_size, 1, 64),
        journal_dir=section.text("journal_dir", defaults.journal_dir),
    )


def _ami(section: _Table) -> AMIConfig:
    section.reject_unknown(
        (
            "host",
            "port",
            "username",
            "secret",
            "ping_interval",
            "reconnect_max_delay",
            "queue_resync_interval",
        )
    )
    defaults = AMIConfig()
    return AMIConfig(
        host=section.text("host", defaults.host),
        port=section.integer("port", defaults.port, 1, 65535),
        username=section.text("username", defaults.username),
        secret=section.text("secret", defaults.secret, empty_ok=True),
        ping_interval=section.seconds("ping_interval", defaults.ping_interval),
        reconnect_max_delay=section.seconds("reconnect_max_delay", defaults.reconnect_max_delay),
        queue_resync_interval=section.seconds(
            "queue_resync_interval", defaults.queue_resync_interval
        ),
    )


def _http(section: _Table) -> HTTPConfig:
    section.reject_unknown(("host", "port"))
    return HTTPConfig(
        host=section.text("host", HTTPConfig.host),
        port=section.integer("port", HTTPConfig.port, 0, 65535),
    )


def _oncall(section: _Table) -> OnCallConfig:
    section.reject_unknown(
        (
            "feed_base_url",
            "feed_days_back",
            "feed_days_ahead",
            "escalation_delays",
            "escalation_passes",
            "escalation_pass_seconds",
            "roster_recheck_seconds",
            "emergency_attach_minutes",
            "max_hold_minutes",
        )
    )
    base_url = section.text("feed_base_url", OnCallConfig.feed_base_url)
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{section.key_path('feed_base_url')}: {base_url!r} is not an http:// or https:// URL"
        )
    return OnCallConfig(
        feed_base_url=base_url,
        feed_days_back=section.integer("feed_days_back", OnCallConfig.feed_days_back, 0, 366),
        feed_days_ahead=section.integer("feed_days_ahead", OnCallConfig.feed_days_ahead, 1, 366),
        escalation=_escalation(section),
        roster_recheck_seconds=section.seconds(
            "roster_recheck_seconds", OnCallConfig.roster_recheck_seconds
        ),
        emergency_attach_minutes=section.integer(
            "emergency_attach_minutes", OnCallConfig.emergency_attach_minutes, 0, 7 * 24 * 60
        ),
        max_hold_minutes=section.integer(
            "max_hold_minutes", OnCallConfig.max_hold_minutes, 5, 7 * 24 * 60
        ),
    )


def _escalation(section: _Table) -> EscalationPolicy:
    default = EscalationPolicy()
    delays = section.data.get("escalation_delays", list(default.delays))
    if not isinstance(delays, list) or not all(
        isinstance(delay, int) and not isinstance(delay, bool) for delay in delays
    ):
        raise ConfigError(
            f"{section.key_path('escalation_delays')}: expected a list of whole seconds, "
            f"got {delays!r}"
        )
    try:
        return EscalationPolicy(
            delays=tuple(delays),
            passes=section.integer("escalation_passes", default.passes, 1, 20),
            pass_seconds=section.integer("escalation_pass_seconds", default.pass_seconds, 1, 3600),
        )
    except ValueError as error:
        raise ConfigError(f"{section.key_path('escalation_delays')}: {error}") from None


def _ledger(section: _Table) -> LedgerConfig:
    return parse_ledger_config(section.data)


_GUARANTEE_CLOCKS = {clock.value: clock for clock in GuaranteeClock}
_CALLBACK_KEYS = (
    "guarantee_hours",
    "clock",
    "window",
    "retry_delay_minutes",
    "max_customer_tries",
    "warn_before_minutes",
    "expert_ring_timeout",
    "customer_ring_timeout",
    "placement_retry",
    "claim_ahead",
    "timer_horizon_minutes",
    "sweep_interval",
    "takeover_interval",
)


def _callbacks(section: _Table, calendar: CalendarSettings) -> CallbacksConfig:
    section.reject_unknown(_CALLBACK_KEYS)
    defaults, policy = CallbacksConfig(), CallbackPolicy()
    window = section.text("window", defaults.window)
    if window not in calendar.windows:
        known = ", ".join(calendar.windows)
        raise ConfigError(f"{section.key_path('window')}: no calendar window '{window}' ({known})")
    clock = _choice(
        section.data.get("clock", policy.clock.value),
        _GUARANTEE_CLOCKS,
        section.key_path("clock"),
        "guarantee clock",
    )
    hours = section.integer("guarantee_hours", _whole(policy.guarantee, 3600), 1, 24 * 30)
    minutes = timedelta(minutes=1)
    return CallbacksConfig(
        policy=CallbackPolicy(
            guarantee=timedelta(hours=hours),
            clock=clock,
            retry_delay=minutes
            * section.integer("retry_delay_minutes", _whole(policy.retry_delay, 60), 0, 24 * 60),
            max_customer_tries=section.integer(
                "max_customer_tries", policy.max_customer_tries, 1, 100
            ),
            warn_before=minutes
            * section.integer("warn_before_minutes", _whole(policy.warn_before, 60), 0, 24 * 60),
        ),
        window=window,
        expert_ring_timeout=_duration(section, "expert_ring_timeout", defaults),
        customer_ring_timeout=_duration(section, "customer_ring_timeout", defaults),
        placement_retry=_duration(section, "placement_retry", defaults),
        claim_ahead=_duration(section, "claim_ahead", defaults),
        timer_horizon=minutes
        * section.integer("timer_horizon_minutes", _whole(defaults.timer_horizon, 60), 1, 24 * 60),
        sweep_interval=_duration(section, "sweep_interval", defaults),
        takeover_interval=_duration(section, "takeover_interval", defaults),
    )


def _whole(duration: timedelta, unit_seconds: int) -> int:
    return int(duration.total_seconds()) // unit_seconds


def _duration(section: _Table, key: str, defaults: CallbacksConfig) -> timedelta:
    default: timedelta = getattr(defaults, key)
    return timedelta(seconds=section.seconds(key, default.total_seconds()))


def _console(section: _Table) -> ConsoleConfig:
    defaults = ConsoleConfig()
    section.reject_unknown(
        (
            "enabled",
            "session_minutes",
            "secure_cookie",
            "window_minutes",
            "service_level_seconds",
            "chart_hours",
            "chart_bucket_minutes",
            "push_interval",
            "max_consoles",
        )
    )
    push_interval = section.seconds("push_interval", defaults.push_interval)
    if push_interval > 1.0:
        raise ConfigError(
            f"{section.key_path('push_interval')}: {push_interval} is more than 1 second: "
            "updates must reach the consoles within a second"
        )
    chart_hours = section.integer("chart_hours", defaults.chart_hours, 1, 48)
    bucket = section.integer("chart_bucket_minutes", defaults.chart_bucket_minutes, 1, 120)
    if (chart_hours * 60) % bucket:
        raise ConfigError(
            f"{section.key_path('chart_bucket_minutes')}: {bucket} does not divide "
            f"{chart_hours} hours into whole buckets"
        )
    return ConsoleConfig(
        enabled=section.flag("enabled", defaults.enabled),
        session_minutes=section.integer("session_minutes", defaults.session_minutes, 1, 24 * 60),
        secure_cookie=section.flag("secure_cookie", defaults.secure_cookie),
        window_minutes=section.integer("window_minutes", defaults.window_minutes, 1, 24 * 60),
        service_level_seconds=section.integer(
            "service_level_seconds", defaults.service_level_seconds, 1, 3600
        ),
        chart_hours=chart_hours,
        chart_bucket_minutes=bucket,
        push_interval=push_interval,
        max_consoles=section.integer("max_consoles", defaults.max_consoles, 1, 100_000),
    )


def _metrics(section: _Table) -> MetricsConfig:
    defaults = MetricsConfig()
    section.reject_unknown(("enabled", "host", "port", "token"))
    token = section.text("token", defaults.token, empty_ok=True)
    if token and len(token) < METRICS_TOKEN_MIN_LENGTH:
        raise ConfigError(
            f"{section.key_path('token')}: at least {METRICS_TOKEN_MIN_LENGTH} characters "
            "(it guards /metrics on the public port)"
        )
    return MetricsConfig(
        enabled=section.flag("enabled", defaults.enabled),
        host=section.text("host", defaults.host),
        port=section.integer("port", defaults.port, 0, 65535),
        token=token,
    )
