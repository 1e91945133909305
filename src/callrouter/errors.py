"""Errors shared across features."""


class CallrouterError(Exception):
    """Base class of every error callrouter raises on purpose."""


class ConfigError(CallrouterError):
    """The configuration is invalid; the message says which key and why."""
