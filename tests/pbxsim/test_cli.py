"""`callrouter pbxsim`: arguments and the errors a user sees."""

from __future__ import annotations

import argparse
import socket

import pytest

from callrouter.pbxsim.cli import register


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="callrouter")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["pbxsim", *argv])


def test_options_reach_the_handler() -> None:
    args = parse(["--port", "0", "--rate", "0.5", "--time-scale", "0.1", "--seed", "4"])
    assert (args.port, args.rate, args.time_scale, args.seed) == (0, 0.5, 0.1, 4)
    assert args.username == "callrouter"
    assert callable(args.handler)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--time-scale", "0"], "time_scale must be positive"),
        (["--rate", "-1"], "--rate must not be negative"),
        (["--port", "99999"], "port must be 0..65535"),
    ],
)
def test_bad_options_give_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(argv)
    assert args.handler(args) == 2
    assert message in capsys.readouterr().err


def test_a_port_in_use_is_reported_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = parse(["--port", str(port)])
        assert args.handler(args) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_a_missing_queues_conf_is_reported(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(["--queues-conf", "/nonexistent/queues.conf"])
    assert args.handler(args) == 2
    assert "cannot read /nonexistent/queues.conf" in capsys.readouterr().err


async def test_the_simulator_settles_its_heap_once_listening(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A collector's full pass over its heap held its loop for tens of ms and released the
    # events due meanwhile in one burst, which no Asterisk sends (it has no collector).
    # The simulator leaves no cyclic garbage (test_heap.py): it runs without the collector.
    import asyncio

    from callrouter.pbxsim import SimulatorSettings, cli

    settled = asyncio.Event()
    asked: list[bool] = []

    def settle_heap(*, collect_cycles: bool = True) -> None:
        asked.append(collect_cycles)
        settled.set()

    monkeypatch.setattr(cli, "settle_heap", settle_heap)
    serving = asyncio.create_task(cli.serve(SimulatorSettings(port=0, secret="s"), rate=0))
    async with asyncio.timeout(5):
        await settled.wait()
    assert asked == [False]
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
