"""callrouter: routes and dispatches the calls of a technical-support hotline."""

__version__ = "0.1.0"
