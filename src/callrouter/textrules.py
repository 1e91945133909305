"""What a person's text may contain when it enters callrouter (API bodies, command options).

Names, summaries, reasons and keys end up in the database and in front of other people. A
NUL is refused by PostgreSQL (a 500 where the client deserved a 400), other control
characters garble logs and terminals, a lone surrogate cannot be encoded at all, and the
bidirectional override and isolate characters make a name display as something it is not
(the "Trojan Source" trick). So, at the edge:

- leading and trailing whitespace is trimmed (harmless, and what people mean);
- C0 and C1 control characters, DEL and NUL are refused, except line breaks and tabs in
  the few multi-line fields (an incident summary), where CR LF is normalised to LF;
- the bidi embedding/override/isolate characters (U+202A-U+202E, U+2066-U+2069) and
  unpaired surrogates are refused.

Plain marks (LRM, RLM), joiners and every printable script stay: Arabic or Hebrew names,
emoji with joiners. Refusals raise `UnsafeText` with a message that names no field: the
caller (API model, CLI option) adds the field's name.
"""

from __future__ import annotations

import argparse
import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MULTILINE_ALLOWED = frozenset("\n\t")


class UnsafeText(ValueError):
    """The text holds a character that is refused; the message says which and where."""


def clean_text(value: str, *, multiline: bool = False) -> str:
    """`value` trimmed, with CR LF made LF when `multiline`; UnsafeText if refused."""
    text = value.strip()
    if multiline:
        text = text.replace("\r\n", "\n")
    for position, character in enumerate(text, start=1):
        problem = _problem(character, multiline=multiline)
        if problem is not None:
            raise UnsafeText(
                f"must not contain {problem} (U+{ord(character):04X} at character {position})"
            )
    return text


def _problem(character: str, *, multiline: bool) -> str | None:
    if character in BIDI_CONTROLS:
        return "bidirectional control characters"
    category = unicodedata.category(character)
    if category == "Cc":
        if multiline and character in _MULTILINE_ALLOWED:
            return None
        return "control characters"
    if category == "Cs":
        return "unpaired surrogates"
    if character in "\u2028\u2029" and not multiline:
        return "line separators"
    return None


def option_text(value: str) -> str:
    """An argparse `type=` for one-line options (names, reasons): argparse names the option."""
    return _option(value, multiline=False)


def option_multiline(value: str) -> str:
    """An argparse `type=` for multi-line options (an incident summary)."""
    return _option(value, multiline=True)


def _option(value: str, *, multiline: bool) -> str:
    try:
        return clean_text(value, multiline=multiline)
    except UnsafeText as error:
        raise argparse.ArgumentTypeError(str(error)) from None
