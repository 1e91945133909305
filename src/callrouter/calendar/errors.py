"""Errors of the calendar."""

from __future__ import annotations

from callrouter.errors import CallrouterError


class CalendarError(CallrouterError):
    """A window or holiday setting that cannot work (never opens, unknown country...)."""
