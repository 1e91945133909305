"""`GET /console/stream`: the console's Server-Sent Events (aiohttp-sse).

The first event is a full `snapshot`, then `delta`s; the browser's EventSource reconnects
by itself and gets a new snapshot, so a page never has to ask for anything. The stream
ends with a `signed-out` event when its session signs out, expires or its key is revoked;
a stream whose browser went away ends at the next check, and every stream ends when the
server stops.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp_sse import sse_response

from callrouter.console.context import CONSOLE
from callrouter.console.hub import CLOSING, SIGNED_OUT
from callrouter.console.pages import current_session
from callrouter.http.access import visibility
from callrouter.http.errors import error_body

#: Seconds between two checks, while nothing is sent, that the session is still live and
#: the browser still there.
_SESSION_CHECK = 1.0
#: A console that has not taken an event within this many seconds is dropped (stalled).
_SEND_TIMEOUT = 30.0


async def console_stream(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = await current_session(request)
    if session is None:
        return web.json_response(
            error_body("unauthorized", "sign in to the console first"), status=401
        )
    subscription = console.hub.subscribe(visibility(session.role), session.id)
    if subscription is None:
        return web.json_response(
            error_body("unavailable", "too many consoles are connected"), status=503
        )
    try:
        async with sse_response(request, headers={"Cache-Control": "no-store"}) as stream:
            while True:
                try:
                    async with asyncio.timeout(_SESSION_CHECK):
                        message = await subscription.messages.get()
                except TimeoutError:
                    transport = request.transport
                    if transport is None or transport.is_closing():
                        break  # the browser went away
                    if console.sessions.live(session):
                        continue
                    message = SIGNED_OUT
                if message is CLOSING:
                    break
                try:
                    async with asyncio.timeout(_SEND_TIMEOUT):
                        # The frame was encoded once for every console (not `stream.send`,
                        # which would format it again for each).
                        await stream.write(message.frame)
                except (TimeoutError, ConnectionResetError):
                    break
                if message is SIGNED_OUT:
                    break
            return stream
    finally:
        console.hub.unsubscribe(subscription)
