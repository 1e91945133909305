"""What can go wrong when talking to Asterisk over the Manager Interface."""

from __future__ import annotations

from callrouter.ami.message import Message
from callrouter.errors import CallrouterError


class AMIError(CallrouterError):
    """Base class of every AMI failure."""


class AMIConnectionError(AMIError):
    """The link is down, or dropped before the answer came: the action may not have run."""


class AMILoginError(AMIError):
    """Asterisk refused the credentials. Final: retrying would only fill its security log."""


class AMIActionError(AMIError):
    """Asterisk answered `Response: Error`; `str()` is its `Message:` header."""

    def __init__(self, response: Message) -> None:
        super().__init__(response.get("Message") or "Asterisk answered Response: Error")
        self.response = response


class AMITimeoutError(AMIError):
    """No answer came in time."""
