"""The console's pages: sign-in, the console itself, sign-out, and the stream's gate.

Sign-in takes an operator's name and API key (the staff credential that exists); only
supervisors and admins get a session. The session cookie is HttpOnly, SameSite=Strict,
scoped to /console, Secure when configured; POSTs from another origin are refused and
sign-out also needs the session's CSRF token. Every page and stream request checks that
the operator's key was not revoked since sign-in.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import select

from callrouter.accounts.models import Operator
from callrouter.console.context import CONSOLE
from callrouter.console.labels import LANGUAGES, choose_language, merged
from callrouter.console.sessions import ConsoleSession
from callrouter.http.access import Role
from callrouter.http.errors import error_body

COOKIE = "callrouter_console"
LANGUAGE_COOKIE = "callrouter_console_lang"
CONSOLE_ROLES = (Role.SUPERVISOR, Role.ADMIN)
#: Form fields longer than this are refused before any lookup.
_MAX_FIELD = 1024

_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it Chromium sends `Origin: null` on the page's own forms.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def static_dir() -> str:
    return str(resources.files("callrouter.console") / "static")


def panel_scripts() -> set[str]:
    """Keys of the panels that ship a renderer (static/panels/<key>.js)."""
    folder = resources.files("callrouter.console") / "static" / "panels"
    return {
        entry.name.removesuffix(".js") for entry in folder.iterdir() if entry.name.endswith(".js")
    }


async def current_session(request: web.Request) -> ConsoleSession | None:
    """The request's live console session whose operator still holds an active key."""
    console = request.app[CONSOLE]
    session = console.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        return None
    async with console.database() as db:
        active = await db.scalar(
            select(Operator.id).where(
                Operator.key_id == session.key_id, Operator.revoked_at.is_(None)
            )
        )
    if active is None:
        console.sessions.close(session)
        console.hub.end_session(session.id)
        return None
    return session


def _language(request: web.Request) -> str:
    return choose_language(
        request.query.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("Accept-Language", ""),
    )


def _html(request: web.Request, language: str, body: str, status: int = 200) -> web.Response:
    response = web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
    )
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, path="/console", httponly=True, samesite="Strict"
        )
    return response


def _language_links(language: str, path: str) -> str:
    links = []
    for code in LANGUAGES:
        current = ' aria-current="true"' if code == language else ""
        links.append(
            f'<a href="{path}?lang={code}" lang="{code}" hreflang="{code}"{current}>'
            f"{_LANGUAGE_NAMES[code]}</a>"
        )
    return " | ".join(links)


def _head(language: str, title: str) -> str:
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/console/static/console.css"></head>'
    )


def _sign_in_page(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    language = _language(request)
    texts = merged(language, ())
    kind = "info" if message == "signed_out" else "error"
    alert = f'<p class="{kind}" role="alert">{escape(texts[message])}</p>' if message else ""
    body = (
        _head(language, texts["sign_in.title"])
        + '<body class="sign-in"><main>'
        + f'<nav aria-label="{escape(texts["language"])}">'
        + _language_links(language, "/console/sign-in")
        + "</nav>"
        + f"<h1>{escape(texts['sign_in.title'])}</h1>"
        + f"<p>{escape(texts['sign_in.intro'])}</p>{alert}"
        + '<form method="post" action="/console/sign-in">'
        + f'<label for="name">{escape(texts["sign_in.name"])}</label>'
        + '<input id="name" name="name" autocomplete="username" required autofocus>'
        + f'<label for="api_key">{escape(texts["sign_in.key"])}</label>'
        + '<input id="api_key" name="api_key" type="password" autocomplete="current-password"'
        + " required>"
        + f'<button type="submit">{escape(texts["sign_in.submit"])}</button>'
        + "</form></main></body></html>"
    )
    return _html(request, language, body, status)


def _same_origin(request: web.Request) -> bool:
    """A browser POST from another site is refused (with SameSite=Strict, a second wall)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


async def sign_in_form(request: web.Request) -> web.Response:
    if await current_session(request) is not None:
        return _see_other("/console/")
    if "ended" in request.query:
        return _sign_in_page(request, "sign_in.expired")
    return _sign_in_page(request, "signed_out" if "signed_out" in request.query else "")


async def sign_in(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    if not _same_origin(request):
        return _sign_in_page(request, "sign_in.bad_origin", 403)
    form = await request.post()
    name, api_key = form.get("name"), form.get("api_key")
    if not isinstance(name, str) or not isinstance(api_key, str):
        return _sign_in_page(request, "sign_in.refused", 401)
    if len(name) > _MAX_FIELD or len(api_key) > _MAX_FIELD:
        return _sign_in_page(request, "sign_in.refused", 401)
    operator = await console.operators.authenticate(api_key.strip())
    if operator is None or operator.name != " ".join(name.split()):
        return _sign_in_page(request, "sign_in.refused", 401)
    if operator.role not in CONSOLE_ROLES:
        return _sign_in_page(request, "sign_in.forbidden", 403)
    token, _ = console.sessions.open(operator.name, operator.role, operator.key_id)
    response = _see_other("/console/")
    response.set_cookie(
        COOKIE,
        token,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=console.settings.secure_cookie,
        max_age=console.settings.session_minutes * 60,
    )
    return response


async def sign_out(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    session = console.sessions.get(request.cookies.get(COOKIE))
    form = await request.post()
    if session is not None and _same_origin(request) and form.get("csrf") == session.csrf:
        console.sessions.close(session)
        console.hub.end_session(session.id)
    elif session is not None:
        return web.json_response(
            error_body("forbidden", "sign-out needs the console page's token", "csrf"),
            status=403,
        )
    response = _see_other("/console/sign-in?signed_out")
    response.del_cookie(COOKIE, path="/console")
    return response


async def console_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    session = await current_session(request)
    if session is None:
        ended = COOKIE in request.cookies
        return _see_other("/console/sign-in?ended" if ended else "/console/sign-in")
    language = _language(request)
    panels = console.hub.panels
    texts = merged(language, [panel.labels for panel in panels])
    scripts = panel_scripts()
    jump = "".join(
        f'<li><a href="#panel-{panel.key}">{escape(texts.get("panel." + panel.key, panel.key))}'
        "</a></li>"
        for panel in panels
    )
    sections = "".join(
        f'<section id="panel-{panel.key}" class="panel panel-{panel.key}" tabindex="-1" '
        f'aria-labelledby="panel-{panel.key}-title"><h2 id="panel-{panel.key}-title">'
        f"{escape(texts.get('panel.' + panel.key, panel.key))}</h2>"
        '<div class="panel-body"></div></section>'
        for panel in panels
    )
    labels_json = json.dumps(texts, ensure_ascii=False).replace("<", "\\u003c")
    body = (
        _head(language, texts["title"])
        + "<body>"
        + f'<a class="skip" href="#panels">{escape(texts["skip"])}</a>'
        + f"<header><h1>{escape(texts['title'])}</h1>"
        + f'<p id="connection" role="status" class="connecting">{escape(texts["connecting"])}</p>'
        + f'<p class="who">{escape(texts["signed_in_as"])} <strong>{escape(session.operator)}'
        + f"</strong> ({escape(texts['role.' + session.role.value])})</p>"
        + f'<nav class="languages" aria-label="{escape(texts["language"])}">'
        + _language_links(language, "/console/")
        + "</nav>"
        + '<form method="post" action="/console/sign-out" class="sign-out">'
        + f'<input type="hidden" name="csrf" value="{escape(session.csrf)}">'
        + f'<button type="submit">{escape(texts["sign_out"])}</button></form></header>'
        + f'<nav class="jump" aria-label="{escape(texts["jump"])}"><ul>{jump}</ul></nav>'
        + f'<main id="panels" tabindex="-1">{sections}</main>'
        + f'<script type="application/json" id="console-labels">{labels_json}</script>'
        + '<script src="/console/static/console.js"></script>'
        + "".join(
            f'<script src="/console/static/panels/{panel.key}.js"></script>'
            for panel in panels
            if panel.key in scripts
        )
        + "</body></html>"
    )
    return _html(request, language, body)


async def console_root(request: web.Request) -> web.Response:
    return _see_other("/console/")


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **_HEADERS})
