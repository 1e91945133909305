"""`GET /console/stream`: the console's Server-Sent Events (aiohttp-sse).

The first event is a full `snapshot`, then `delta`s; the browser's EventSource reconnects
by itself and gets a new snapshot, so a page never has to ask for anything. The stream
ends with a `signed-out` event when its session signs out, expires or its key is revoked;
a stream whose browser went away ends at the next sweep, and every stream ends when the
server stops.

This handler only opens the response and waits for its end: the hub writes the events to
the connection itself (see console/hub.py), and one sweep every `SWEEP_SECONDS` checks
every stream (`ConsoleHub.keep_streams`, run by the console's context).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp_sse import sse_response

from callrouter.console.context import CONSOLE
from callrouter.console.pages import current_session
from callrouter.http.access import visibility
from callrouter.http.errors import error_body

#: Sent through aiohttp before the hub writes: aiohttp holds the response's headers back
#: until the body's first write, and they must precede the events. (A comment: the
#: browser ignores it.)
_OPENING = b": callrouter\r\n\r\n"


async def console_stream(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = await current_session(request)
    if session is None:
        return web.json_response(
            error_body("unauthorized", "sign in to the console first"), status=401
        )
    subscription = console.hub.subscribe(
        visibility(session.role), session.id, lambda: console.sessions.live(session)
    )
    if subscription is None:
        return web.json_response(
            error_body("unavailable", "too many consoles are connected"), status=503
        )
    try:
        # Chunked (aiohttp-sse asks for it): the hub's messages are encoded as chunks.
        async with sse_response(request, headers={"Cache-Control": "no-store"}) as stream:
            await stream.write(_OPENING)
            transport = request.transport
            if transport is not None and not transport.is_closing():
                console.hub.attach(subscription, transport)
                await subscription.finished.wait()
            return stream
    finally:
        console.hub.unsubscribe(subscription)
