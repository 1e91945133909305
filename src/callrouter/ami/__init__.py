"""The Asterisk Manager Interface: messages, parser and asyncio client."""

from callrouter.ami.client import AMIClient, AMIState, AMIStats
from callrouter.ami.errors import (
    AMIActionError,
    AMIConnectionError,
    AMIError,
    AMILoginError,
    AMITimeoutError,
)
from callrouter.ami.message import Message, MessageKind
from callrouter.ami.parser import AMIParser

__all__ = [
    "AMIActionError",
    "AMIClient",
    "AMIConnectionError",
    "AMIError",
    "AMILoginError",
    "AMIParser",
    "AMIState",
    "AMIStats",
    "AMITimeoutError",
    "Message",
    "MessageKind",
]
