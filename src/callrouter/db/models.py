"""Imports every model module, so Base.metadata (Alembic, fixtures) sees every table."""

import callrouter.accounts.models
import callrouter.appointments.models
import callrouter.callbacks.models
import callrouter.experts.models
import callrouter.ledger.models
import callrouter.oncall.escalation_models
import callrouter.oncall.models  # noqa: F401
from callrouter.calls import models as calls_models
from callrouter.db.base import Base
from callrouter.identity import models as identity_models

__all__ = ["Base", "calls_models", "identity_models"]
