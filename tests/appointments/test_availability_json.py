"""The availability route writes its answer as plain data (http.endpoint.Plain), not as the
`Availability` model the OpenAPI document describes: the two must be the same document."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callrouter.appointments import schemas
from callrouter.appointments.routes import availability_answer
from callrouter.appointments.rules import SlotAvailability
from callrouter.calendar import PARIS
from callrouter.http.endpoint import json_body
from callrouter.http.fields import TIMEZONE

# Names as the directory takes them: accents, quotes and backslashes must be written alike.
_NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
# Both sides of the DST changes (30 March, 26 October 2025): offsets must follow the date.
_INSTANTS = st.datetimes(
    min_value=datetime(2025, 3, 1), max_value=datetime(2025, 11, 30), timezones=st.just(UTC)
)
_SLOTS = st.lists(
    st.builds(
        lambda start, minutes, free: SlotAvailability(
            start, start + timedelta(minutes=minutes), tuple(free)
        ),
        _INSTANTS,
        st.sampled_from([15, 30, 45, 60]),
        st.lists(_NAMES, max_size=10),
    ),
    max_size=40,
)


def _as_the_model_writes_it(domain: str, minutes: int, slots: list[SlotAvailability]) -> Any:
    # The answer as the route built it before: checked as the model, then dumped.
    return schemas.Availability.model_validate(
        {
            "domain": domain,
            "slot_minutes": minutes,
            "items": [
                {"start": s.start, "end": s.end, "capacity": len(s.free), "experts": s.free}
                for s in slots
            ],
        }
    )


@settings(max_examples=200, deadline=None)
@given(domain=_NAMES, minutes=st.sampled_from([15, 30, 60]), slots=_SLOTS)
def test_the_answer_is_the_models_document_byte_for_byte(
    domain: str, minutes: int, slots: list[SlotAvailability]
) -> None:
    written = json_body(availability_answer(domain, timedelta(minutes=minutes), slots), PARIS)
    model = _as_the_model_writes_it(domain, minutes, slots)
    assert json.loads(written) == model.model_dump(mode="json", context={TIMEZONE: PARIS})
    assert written == json_body(model, PARIS)


def test_slot_times_are_written_in_the_calendars_zone() -> None:
    start = datetime(2025, 3, 31, 8, 0, tzinfo=UTC)
    slot = SlotAvailability(start, start + timedelta(minutes=30), ("Éloïse",))
    written = json.loads(
        json_body(availability_answer("knx", timedelta(minutes=30), [slot]), PARIS)
    )
    assert written == {
        "domain": "knx",
        "slot_minutes": 30,
        "items": [
            {
                "start": "2025-03-31T10:00:00+02:00",
                "end": "2025-03-31T10:30:00+02:00",
                "capacity": 1,
                "experts": ["Éloïse"],
            }
        ],
    }
