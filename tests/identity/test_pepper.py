"""The PIN pepper comes from the environment, and `serve` will not start without it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from callrouter.cli import main
from callrouter.identity.pepper import (
    DEMO_PIN_PEPPER,
    PIN_PEPPER_ENV,
    MissingPinPepper,
    demo_pin_pepper,
    pin_pepper,
)


def test_the_pepper_is_read_from_the_environment() -> None:
    assert pin_pepper({PIN_PEPPER_ENV: "x" * 32}) == b"x" * 32


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, f"{PIN_PEPPER_ENV} is not set"),
        ({PIN_PEPPER_ENV: ""}, f"{PIN_PEPPER_ENV} is not set"),
        ({PIN_PEPPER_ENV: "x" * 31}, "must be at least 32 characters long"),
    ],
)
def test_no_pepper_or_a_short_one_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(MissingPinPepper, match=message):
        pin_pepper(environ)


def test_the_demo_uses_the_environment_s_pepper_else_its_own() -> None:
    assert demo_pin_pepper({}) == DEMO_PIN_PEPPER
    assert demo_pin_pepper({PIN_PEPPER_ENV: "y" * 32}) == b"y" * 32
    with pytest.raises(MissingPinPepper):
        demo_pin_pepper({PIN_PEPPER_ENV: "short"})


@pytest.fixture
def _logging_restored() -> Iterator[None]:
    """`main` points the logs at this test's captured stderr: later tests must not log there."""
    before = structlog.get_config()
    yield
    structlog.configure(**before)


@pytest.mark.usefixtures("_logging_restored")
def test_serve_refuses_to_start_without_a_pepper(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLROUTER_API_SECRET", "a" * 32)
    monkeypatch.delenv(PIN_PEPPER_ENV, raising=False)
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert f"{PIN_PEPPER_ENV} is not set" in err and "Traceback" not in err
