"""The three passes of the support offer (seeds/000_0e15b6772b2a7f9e.txt)."""

from __future__ import annotations

import enum


class Pass(enum.StrEnum):
    #: "Pass délai 4H": a coordinator takes the call, an expert calls back within 4 hours.
    FOUR_HOURS = "4h"
    #: "Pass RDV": an appointment booked at least a week ahead, expert's call within 15 min.
    APPOINTMENT = "rdv"
    #: "Pass prioritaire": urgent calls served first; the only pass that opens emergencies.
    PRIORITY = "prioritaire"
