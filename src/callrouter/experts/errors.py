"""What the experts' directory refuses, each with a message for the person who asked."""

from __future__ import annotations

from collections.abc import Sequence

from callrouter.errors import CallrouterError


class ExpertError(CallrouterError):
    """Base of the directory's errors. `field` names the input at fault, when one is."""

    field: str | None = None


class UnknownExpert(ExpertError):
    def __init__(self, who: str) -> None:
        super().__init__(f"no active expert {who}")


class ExpertExists(ExpertError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"an active expert already has {detail}")


class UnknownDomain(ExpertError):
    field = "domain"

    def __init__(self, domains: Sequence[str], known: Sequence[str]) -> None:
        super().__init__(
            f"unknown domain(s) {', '.join(domains)} (the configured ones: {', '.join(known)})"
        )


class InvalidExpert(ExpertError):
    """A name, an interface, hours or an absence that does not make sense."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
