"""textrules: what a person's text may contain (pure; the API and the CLI both use it)."""

from __future__ import annotations

import argparse

import pytest

from callrouter.textrules import UnsafeText, clean_text, option_multiline, option_text


@pytest.mark.parametrize(
    ("text", "problem", "position"),
    [
        ("ab\x00c", "control characters", "U+0000 at character 3"),
        ("\x07bell", "control characters", "U+0007 at character 1"),
        ("a\x7fb", "control characters", "U+007F at character 2"),
        ("a\x9bb", "control characters", "U+009B at character 2"),
        ("abc\u202edcba", "bidirectional control characters", "U+202E at character 4"),
        ("a\u202ab", "bidirectional control characters", "U+202A at character 2"),
        ("a\u2069b", "bidirectional control characters", "U+2069 at character 2"),
        ("a\ud800b", "unpaired surrogates", "U+D800 at character 2"),
        ("a\nb", "control characters", "U+000A at character 2"),
        ("a\u2028b", "line separators", "U+2028 at character 2"),
    ],
)
def test_one_line_text_refuses(text: str, problem: str, position: str) -> None:
    with pytest.raises(UnsafeText) as raised:
        clean_text(text)
    assert str(raised.value) == f"must not contain {problem} ({position})"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("  Zoé Durand \t", "Zoé Durand"),
        ("مريم بن علي", "مريم بن علي"),
        ("Léa 👩‍🔧", "Léa 👩‍🔧"),
        ("Ali \u200eBen", "Ali \u200eBen"),
        ("", ""),
    ],
)
def test_people_s_text_is_kept_trimmed(text: str, kept: str) -> None:
    assert clean_text(text) == kept


def test_multiline_text_keeps_line_breaks_and_tabs_and_normalises_crlf() -> None:
    assert clean_text(" un\r\n\tdeux\n", multiline=True) == "un\n\tdeux"
    with pytest.raises(UnsafeText, match=r"U\+000D"):
        clean_text("un\rdeux", multiline=True)
    with pytest.raises(UnsafeText, match=r"U\+0000"):
        clean_text("un\x00deux", multiline=True)
    with pytest.raises(UnsafeText, match=r"U\+202E"):
        clean_text("un\u202edeux", multiline=True)


def test_argparse_names_the_option() -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--name", type=option_text)
    parser.add_argument("--summary", type=option_multiline)
    assert parser.parse_args(["--name", " Zoé ", "--summary", "a\nb"]).name == "Zoé"
    with pytest.raises(argparse.ArgumentError) as raised:
        parser.parse_args(["--name", "Zo\u202eé"])
    assert "--name" in str(raised.value)
    assert "bidirectional" in str(raised.value)
