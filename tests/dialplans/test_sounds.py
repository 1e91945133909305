"""The hotline's prompts and hold music ship with the project, and the IVR still listens and
still holds when they are missing (issue 7, item 4)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from callrouter.routing.decision import RoutingPolicy

from .dialplan_model import DIALPLANS, ROOT, Caller, Dialplan, first, user_event, walk

SOUNDS = DIALPLANS / "sounds"
PROMPTS = SOUNDS / "fr" / "callrouter"
HOLD_MUSIC = SOUNDS / "moh"
GSM_FRAME = 33  # bytes of one GSM 06.10 frame: 20 ms of 8 kHz mono speech


def prompts_played() -> set[str]:
    """Every callrouter/ sound the dialplan plays or the router asks it to play."""
    text = (DIALPLANS / "extensions.conf").read_text(encoding="utf-8")
    policy = RoutingPolicy()
    sounds = set(re.findall(r"callrouter/[a-z-]+", text))
    sounds |= {policy.closed_sound, policy.refused_sound, policy.insufficient_balance_sound}
    return sounds


def shipped(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.gsm"))


def test_every_prompt_the_hotline_plays_is_shipped() -> None:
    names = {f"callrouter/{path.stem}" for path in shipped(PROMPTS)}

    assert prompts_played() - names == set()
    assert names - prompts_played() == set(), "a shipped prompt is never played"


@pytest.mark.parametrize("folder", [PROMPTS, HOLD_MUSIC], ids=["prompts", "hold-music"])
def test_sounds_are_small_8khz_mono_gsm_files(folder: Path) -> None:
    files = shipped(folder)
    assert files
    for path in files:
        data = path.read_bytes()
        assert data and len(data) % GSM_FRAME == 0, f"{path.name} is not whole GSM frames"
        # every GSM 06.10 frame starts with the 0xD signature nibble
        assert all(data[i] >> 4 == 0xD for i in range(0, len(data), GSM_FRAME)), path.name
    assert sum(path.stat().st_size for path in files) < 150_000


def test_hold_music_lasts_long_enough_to_loop_unnoticed() -> None:
    (music,) = shipped(HOLD_MUSIC)
    seconds = music.stat().st_size / GSM_FRAME * 0.020

    assert seconds >= 10


def test_the_generator_script_writes_every_shipped_sound() -> None:
    script = (SOUNDS / "generate.sh").read_text(encoding="utf-8")

    for path in shipped(PROMPTS):
        assert re.search(rf'^prompt {re.escape(path.stem)} "', script, re.MULTILINE), path.name
    for path in shipped(HOLD_MUSIC):
        assert f"$out/moh/{path.name}" in script


@pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")),
    reason="espeak-ng and sox are not installed (dialplans/sounds/generate.sh needs them)",
)
def test_the_generator_script_regenerates_the_same_files(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", str(SOUNDS / "generate.sh"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )

    for folder, generated in (
        (PROMPTS, tmp_path / "fr" / "callrouter"),
        (HOLD_MUSIC, tmp_path / "moh"),
    ):
        assert [p.name for p in shipped(generated)] == [p.name for p in shipped(folder)]


def test_without_any_prompt_installed_the_ivr_still_waits_for_the_callers_keys(
    dialplan: Dialplan,
) -> None:
    caller = Caller(["12345678#", "123456#", "3"])

    steps = walk(
        dialplan, "from-trunk", "0800100200", until="UserEvent", caller=caller, sounds=frozenset()
    )

    _, headers, _ = user_event(steps[-1])
    assert (headers["Account"], headers["Pin"], headers["Pass"]) == ("12345678", "123456", "3")
    assert caller.unread == ""
    assert first(steps, "Log").data.startswith("WARNING,")


@pytest.mark.parametrize("hold_music", [True, False], ids=["music", "empty-class"])
def test_the_router_has_its_whole_wait_with_or_without_hold_music(
    dialplan: Dialplan, hold_music: bool
) -> None:
    steps = walk(dialplan, "from-trunk", "0800100200", until="Queue", hold_music=hold_music)

    announce = first(steps, "UserEvent", "HotlineCall")
    failsafe = first(steps, "UserEvent", "HotlineFailsafe")
    assert failsafe.at - announce.at == int(dialplan.globals["HOTLINE_ROUTER_WAIT"])


def test_the_readme_says_where_the_sounds_are_installed() -> None:
    readme = (DIALPLANS / "README.md").read_text(encoding="utf-8")

    assert "dialplans/sounds/fr/callrouter/" in readme
    assert "/var/lib/asterisk/sounds/fr/callrouter/" in readme
    assert "/var/lib/asterisk/moh/" in readme
    assert "dialplans/sounds/generate.sh" in readme


def test_the_asterisk_image_installs_the_sounds_and_nothing_hides_them() -> None:
    dockerfile = (ROOT / "docker" / "asterisk" / "Dockerfile").read_text(encoding="utf-8")
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")

    assert "COPY dialplans/sounds/fr/callrouter/ /var/lib/asterisk/sounds/fr/callrouter/" in (
        dockerfile
    )
    assert "COPY dialplans/sounds/moh/ /var/lib/asterisk/moh/" in dockerfile
    assert re.search(r"context: \.\n\s+dockerfile: docker/asterisk/Dockerfile", compose)
    mounted = re.findall(r":(/var/lib/asterisk/[^:\s]*)", compose)
    hidden = [m for m in mounted if "/var/lib/asterisk/sounds/fr/callrouter".startswith(m)]
    assert not hidden and not any(m.startswith("/var/lib/asterisk/moh") for m in mounted)


def test_every_file_the_asterisk_image_copies_is_in_its_build_context() -> None:
    # The compose file builds the image from the repository's root (checked above).
    dockerfile = (ROOT / "docker" / "asterisk" / "Dockerfile").read_text(encoding="utf-8")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()

    sources = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")]
    assert len(sources) == 4
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(Path(source).match(pattern) for pattern in ignored), source
