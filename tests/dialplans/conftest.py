"""Fixtures of the dialplan tests: the files of dialplans/, parsed."""

from __future__ import annotations

import pytest

from .dialplan_model import DIALPLANS, ConfFile, Dialplan, parse_conf, parse_dialplan


@pytest.fixture(scope="module")
def dialplan() -> Dialplan:
    return parse_dialplan(DIALPLANS / "extensions.conf")


@pytest.fixture(scope="module")
def queues() -> ConfFile:
    return parse_conf(DIALPLANS / "queues.conf")


@pytest.fixture(scope="module")
def manager() -> ConfFile:
    return parse_conf(DIALPLANS / "manager.conf")
