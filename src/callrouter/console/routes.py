"""Mounts the console on the hotline's aiohttp app, under /console/."""

from __future__ import annotations

from aiohttp import web

from callrouter.console.context import CONSOLE, Console, console_context
from callrouter.console.pages import (
    console_page,
    console_root,
    sign_in,
    sign_in_form,
    sign_out,
    static_dir,
)
from callrouter.console.stream import console_stream


def setup_console(app: web.Application, console: Console) -> None:
    """The pages, the stream and the local static files; the hub runs with the app."""
    app[CONSOLE] = console
    app.router.add_get("/console", console_root)
    app.router.add_get("/console/", console_page)
    app.router.add_get("/console/sign-in", sign_in_form)
    app.router.add_post("/console/sign-in", sign_in)
    app.router.add_post("/console/sign-out", sign_out)
    app.router.add_get("/console/stream", console_stream)
    app.router.add_static("/console/static/", static_dir(), append_version=False)
    app.cleanup_ctx.append(console_context(console))

    async def end_streams(_app: web.Application) -> None:
        console.hub.close_all()

    app.on_shutdown.append(end_streams)
