"""Today's appointments and the on-call panel: what they show, to whom, in which words."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from callrouter.appointments.queries import AppointmentFilter, AppointmentView
from callrouter.appointments.routes import appointment as api_appointment
from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.console.labels import merged
from callrouter.console.panel import PanelView
from callrouter.console.panels_appointments import STATE_WORDS, AppointmentsPanel, today
from callrouter.console.panels_oncall import OnCallPanel
from callrouter.http.access import Role, visibility
from callrouter.ledger.prices import AssistanceLevel
from callrouter.oncall.roster import Layer, Roster, Rotation, Technician

UTC = ZoneInfo("UTC")
NUMBER = "0612345678"


def view_for(role: Role, now: datetime) -> PanelView:
    return PanelView(now=now, timezone=PARIS, seen=visibility(role))


def appointment(
    ident: int, start: datetime, state: str, expert: str = "Lucie Martin"
) -> AppointmentView:
    return AppointmentView(
        id=ident,
        account_number="40000001",
        incident_id=ident,
        domain="knx",
        expert_id=1,
        expert_name=expert,
        expert_interface="PJSIP/expert1",
        start=start,
        end=start + timedelta(minutes=30),
        number_to_call=NUMBER,
        summary="Volets bloqués",
        level=AssistanceLevel.STANDARD,
        third_party=False,
        state=state,
        booked_by="api",
        booked_at=start - timedelta(days=1),
        cancelled_at=None,
        cancel_refunded=None,
        debited=100,
        balance_after=400,
        refunded_at=None,
    )


class Appointments:
    """The service's `find`, over a fixed list, remembering what it was asked."""

    def __init__(self, views: list[AppointmentView]) -> None:
        self.views = views
        self.asked: list[AppointmentFilter] = []

    async def find(self, where: AppointmentFilter) -> list[AppointmentView]:
        self.asked.append(where)
        assert where.since is not None and where.until is not None
        return [v for v in self.views if where.since <= v.start < where.until]


def test_today_is_the_calendar_day_even_when_the_clocks_change() -> None:
    # 27 October 2024 in Paris is 25 hours long.
    asked = today(datetime(2024, 10, 27, 12, 0, tzinfo=PARIS), PARIS)
    assert asked.since == datetime(2024, 10, 27, 0, 0, tzinfo=PARIS)
    assert asked.until == datetime(2024, 10, 28, 0, 0, tzinfo=PARIS)
    assert asked.until.astimezone(UTC) - asked.since.astimezone(UTC) == timedelta(hours=25)


async def test_appointments_of_today_in_order_with_their_state_in_words() -> None:
    now = datetime(2026, 12, 1, 11, 0, tzinfo=PARIS)
    service = Appointments(
        [
            appointment(1, datetime(2026, 12, 1, 15, 0, tzinfo=PARIS), "booked"),
            appointment(2, datetime(2026, 12, 1, 9, 0, tzinfo=PARIS), "met"),
            appointment(3, datetime(2026, 12, 1, 10, 45, tzinfo=PARIS), "dialling"),
            appointment(4, datetime(2026, 12, 1, 10, 0, tzinfo=PARIS), "broken"),
            appointment(5, datetime(2026, 12, 1, 16, 0, tzinfo=PARIS), "cancelled"),
            appointment(6, datetime(2026, 12, 2, 9, 0, tzinfo=PARIS), "booked"),  # tomorrow
            appointment(7, datetime(2026, 11, 30, 23, 45, tzinfo=PARIS), "met"),  # yesterday
        ]
    )
    panel = AppointmentsPanel(service.find, PARIS)
    assert panel.snapshot(view_for(Role.SUPERVISOR, now))["read"] is False
    assert await panel.refresh(now) is True
    assert await panel.refresh(now) is False
    shown = panel.snapshot(view_for(Role.SUPERVISOR, now))["appointments"]
    assert [(line["at"][11:16], line["state"]) for line in shown] == [
        ("09:00", "met"),
        ("10:00", "broken"),
        ("10:45", "dialling"),
        ("15:00", "upcoming"),
        ("16:00", "cancelled"),
    ]
    # Times a person reads carry the calendar's offset.
    assert shown[0]["at"] == "2026-12-01T09:00:00+01:00"
    assert shown[0]["domain"] == "knx" and shown[0]["expert"] == "Lucie Martin"
    service.views[0] = appointment(1, datetime(2026, 12, 1, 15, 0, tzinfo=PARIS), "dialling")
    assert await panel.refresh(now) is True


async def test_the_expert_shown_is_who_took_the_call_once_one_did() -> None:
    # Lucie was reserved; busy at the slot, the dispatcher handed the call to Marc.
    now = datetime(2026, 12, 1, 11, 0, tzinfo=PARIS)
    start = datetime(2026, 12, 1, 10, 45, tzinfo=PARIS)
    taken = replace(appointment(1, start, "met"), taken_by_id=2, taken_by_name="Marc Petit")
    service = Appointments([taken, appointment(2, start, "dialling")])
    panel = AppointmentsPanel(service.find, PARIS)
    await panel.refresh(now)
    shown = panel.snapshot(view_for(Role.SUPERVISOR, now))["appointments"]
    assert [line["expert"] for line in shown] == ["Marc Petit", "Lucie Martin"]


async def test_the_expert_shown_is_the_apis_even_when_the_directory_has_no_row_for_them() -> None:
    # Marc answered, then no directory row matched him (removed before the call was placed):
    # he still took the call, and the console names him as /api/appointments does.
    now = datetime(2026, 12, 1, 11, 0, tzinfo=PARIS)
    start = datetime(2026, 12, 1, 10, 45, tzinfo=PARIS)
    taken = replace(appointment(1, start, "met"), taken_by_id=None, taken_by_name="Marc Petit")
    panel = AppointmentsPanel(Appointments([taken]).find, PARIS)
    await panel.refresh(now)
    [shown] = panel.snapshot(view_for(Role.SUPERVISOR, now))["appointments"]
    assert shown["expert"] == api_appointment(taken).expert.name == "Marc Petit"


async def test_the_number_to_call_is_masked_but_for_admins() -> None:
    now = datetime(2026, 12, 1, 11, 0, tzinfo=PARIS)
    service = Appointments([appointment(1, datetime(2026, 12, 1, 15, 0, tzinfo=PARIS), "booked")])
    panel = AppointmentsPanel(service.find, PARIS)
    await panel.refresh(now)
    [supervisor] = panel.snapshot(view_for(Role.SUPERVISOR, now))["appointments"]
    assert supervisor["number"] != NUMBER and supervisor["number"].endswith("78")
    assert "345" not in supervisor["number"]
    [admin] = panel.snapshot(view_for(Role.ADMIN, now))["appointments"]
    assert admin["number"] == NUMBER


def test_every_state_word_has_a_french_and_an_english_label() -> None:
    for language in ("fr", "en"):
        texts = merged(language, [AppointmentsPanel.labels, OnCallPanel.labels])
        for word in STATE_WORDS.values():
            assert texts[f"appointment.{word}"]
        for layer in Layer:
            assert texts[f"oncall.{layer.value}"]
    assert merged("fr", [AppointmentsPanel.labels])["panel.appointments"] == "Rendez-vous du jour"
    assert merged("en", [AppointmentsPanel.labels])["appointment.upcoming"] == "upcoming"
    assert merged("fr", [OnCallPanel.labels])["panel.oncall"] == "D'astreinte"
    assert merged("fr", [AppointmentsPanel.labels])["appointment.broken"] == "manqué"


WINDOW = HotlineCalendar.default().on_call
PEOPLE = {
    name: Technician(name, f"0{index}12345678")
    for index, name in enumerate(("Emma", "Hugo", "Sophie"), 6)
}
ROSTER = Roster(
    WINDOW,
    PEOPLE,
    {
        # Monday 3 March 2025 is a working day: on call from 18:00 to 08:00.
        Layer.PRIMARY: Rotation(("Emma", "Hugo"), 1, time(18), date(2025, 3, 3)),
        Layer.MANAGER: Rotation(("Sophie",), 7, time(8), date(2025, 3, 3)),
    },
)


class Rosters:
    def __init__(self, roster: Roster) -> None:
        self.roster = roster

    async def read(self) -> Roster:
        return self.roster


async def test_on_call_now_and_next_with_the_hand_off_time_and_its_offset() -> None:
    rosters = Rosters(ROSTER)
    panel = OnCallPanel(rosters.read)
    night = datetime(2025, 3, 3, 18, 5, tzinfo=PARIS)
    assert panel.snapshot(view_for(Role.SUPERVISOR, night)) == {"configured": True, "read": False}
    assert await panel.refresh(night) is True
    assert await panel.refresh(night) is False
    shown = panel.snapshot(view_for(Role.SUPERVISOR, night))
    assert shown["window_open"] is True
    assert shown["now"] == {"primary": "Emma", "secondary": None, "manager": "Sophie"}
    assert shown["until"] == "2025-03-04T08:00:00+01:00"  # the on-call hours end
    assert shown["next"] == {
        "at": "2025-03-04T18:00:00+01:00",
        "team": {"primary": "Hugo", "secondary": None, "manager": "Sophie"},
    }
    # Contacts (phone numbers, interfaces) are never shown, even to admins.
    assert "612345678" not in str(panel.snapshot(view_for(Role.ADMIN, night)))


async def test_by_day_nobody_is_on_call_and_the_hand_off_moves_with_the_clock() -> None:
    panel = OnCallPanel(Rosters(ROSTER).read)
    day = datetime(2025, 3, 4, 10, 0, tzinfo=PARIS)
    await panel.refresh(day)
    shown = panel.snapshot(view_for(Role.SUPERVISOR, day))
    assert shown["window_open"] is False and shown["now"] is None and shown["until"] is None
    assert shown["next"]["at"] == "2025-03-04T18:00:00+01:00"
    # The same roster, a tick after the hand-off: no new reading is needed.
    after = panel.snapshot(view_for(Role.SUPERVISOR, datetime(2025, 3, 4, 18, 0, tzinfo=PARIS)))
    assert after["now"] == {"primary": "Hugo", "secondary": None, "manager": "Sophie"}
    assert after["next"]["at"] == "2025-03-05T18:00:00+01:00"


async def test_a_changed_roster_is_announced() -> None:
    rosters = Rosters(ROSTER)
    panel = OnCallPanel(rosters.read)
    now = datetime(2025, 3, 3, 18, 5, tzinfo=UTC)
    await panel.refresh(now)
    rosters.roster = Roster(WINDOW, PEOPLE)
    assert await panel.refresh(now) is True
    assert panel.snapshot(view_for(Role.SUPERVISOR, now))["now"] is None


async def test_what_the_panel_kept_gives_way_to_a_new_roster_and_to_the_window_opening() -> None:
    rosters = Rosters(Roster(WINDOW, PEOPLE))  # nobody rostered: no hand-off to wait for
    panel = OnCallPanel(rosters.read)
    evening = datetime(2025, 3, 3, 17, 59, 30, tzinfo=PARIS)
    await panel.refresh(evening)
    assert panel.snapshot(view_for(Role.SUPERVISOR, evening))["window_open"] is False
    opened = panel.snapshot(view_for(Role.SUPERVISOR, datetime(2025, 3, 3, 18, tzinfo=PARIS)))
    assert opened["window_open"] is True and opened["now"] is None
    rosters.roster = ROSTER
    await panel.refresh(evening)
    later = datetime(2025, 3, 3, 18, 5, tzinfo=PARIS)
    assert panel.snapshot(view_for(Role.SUPERVISOR, later))["now"] == {
        "primary": "Emma",
        "secondary": None,
        "manager": "Sophie",
    }


@dataclass(frozen=True)
class Emergency:
    """What the escalation tracker holds for an emergency (its `Escalation`'s fields)."""

    caller_id: str
    started_at: datetime
    pass_started_at: datetime
    pass_number: int
    layer: str
    state: str
    technician: str | None


async def test_live_escalations_with_their_step_and_waiting_time_masked_but_for_admins() -> None:
    night = datetime(2025, 3, 3, 22, 0, tzinfo=PARIS)
    live = [
        Emergency(
            "0611223344",
            night - timedelta(minutes=4),
            night - timedelta(minutes=1),
            2,
            "secondary",
            "waiting",
            None,
        ),
        Emergency(
            "0655667788",
            night - timedelta(minutes=2),
            night,
            1,
            "primary",
            "confirmed",
            "0612345678",
        ),
    ]
    panel = OnCallPanel(Rosters(ROSTER).read, lambda: live)
    await panel.refresh(night)
    shown = panel.snapshot(view_for(Role.SUPERVISOR, night))["escalations"]
    assert shown[0] == {
        "caller": shown[0]["caller"],
        "since": "2025-03-03T21:56:00+01:00",
        "pass_since": "2025-03-03T21:59:00+01:00",
        "pass": 2,
        "layer": "secondary",
        "state": "waiting",
        "technician": None,
    }
    assert "1122" not in shown[0]["caller"] and shown[0]["caller"].endswith("44")
    assert "345" not in str(shown[1]["technician"])
    admin = panel.snapshot(view_for(Role.ADMIN, night))["escalations"]
    assert admin[1]["caller"] == "0655667788" and admin[1]["technician"] == "0612345678"
    # Without an escalation source (no PBX link), the list is empty.
    quiet = OnCallPanel(Rosters(ROSTER).read)
    await quiet.refresh(night)
    assert quiet.snapshot(view_for(Role.SUPERVISOR, night))["escalations"] == []


def test_escalation_states_have_words_in_both_languages() -> None:
    for language in ("fr", "en"):
        texts = merged(language, [OnCallPanel.labels])
        for state in ("waiting", "confirmed", "connected", "abandoned", "unanswered"):
            assert texts[f"escalation.{state}"]
