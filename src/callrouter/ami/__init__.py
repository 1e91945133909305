"""The Asterisk Manager Interface: messages, parser and asyncio client."""

from callrouter.ami.message import Message, MessageKind
from callrouter.ami.parser import AMIParser

__all__ = ["AMIParser", "Message", "MessageKind"]
