"""The console's texts in French and English, and which language a request gets.

Only the interface is translated: callers' names, agents' names, queue names and routing
reasons are shown as stored.
"""

from __future__ import annotations

from collections.abc import Iterable

from callrouter.console.panel import Labels

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

PAGE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "callrouter console",
        "skip": "Skip to the panels",
        "jump": "Panels",
        "live": "Live",
        "connecting": "Connecting…",
        "reconnecting": "Connection lost, reconnecting…",
        "signed_out": "Signed out.",
        "sign_out": "Sign out",
        "signed_in_as": "Signed in as",
        "role.supervisor": "supervisor",
        "role.admin": "admin",
        "language": "Language",
        "not_configured": "Not configured on this hotline.",
        "sign_in.title": "Sign in to the console",
        "sign_in.intro": "Supervisors and admins sign in with their operator name and "
        "API key (crk_...).",
        "sign_in.name": "Operator name",
        "sign_in.key": "API key",
        "sign_in.submit": "Sign in",
        "sign_in.refused": "Wrong name or API key, or the key was revoked.",
        "sign_in.forbidden": "The console is for supervisors and admins: coordinators see "
        "their queues in the API.",
        "sign_in.expired": "Your session ended: sign in again.",
        "sign_in.bad_origin": "The form was sent from another site: refused.",
        "seconds": "s",
        "minutes": "min",
        "hours": "h",
        "none": "—",
    },
    "fr": {
        "title": "Console callrouter",
        "skip": "Aller aux panneaux",
        "jump": "Panneaux",
        "live": "En direct",
        "connecting": "Connexion…",
        "reconnecting": "Connexion perdue, reconnexion…",
        "signed_out": "Déconnecté.",
        "sign_out": "Se déconnecter",
        "signed_in_as": "Connecté en tant que",
        "role.supervisor": "superviseur",
        "role.admin": "administrateur",
        "language": "Langue",
        "not_configured": "Non configuré sur cette hotline.",
        "sign_in.title": "Connexion à la console",
        "sign_in.intro": "Superviseurs et administrateurs se connectent avec leur nom "
        "d'opérateur et leur clé d'API (crk_...).",
        "sign_in.name": "Nom d'opérateur",
        "sign_in.key": "Clé d'API",
        "sign_in.submit": "Se connecter",
        "sign_in.refused": "Nom ou clé d'API incorrects, ou clé révoquée.",
        "sign_in.forbidden": "La console est réservée aux superviseurs et administrateurs : "
        "les coordinateurs voient leurs files dans l'API.",
        "sign_in.expired": "Votre session est terminée : reconnectez-vous.",
        "sign_in.bad_origin": "Le formulaire vient d'un autre site : refusé.",
        "seconds": "s",
        "minutes": "min",
        "hours": "h",
        "none": "—",
    },
}


def merged(language: str, extra: Iterable[Labels]) -> dict[str, str]:
    """The page's labels and every panel's, in `language`."""
    texts = dict(PAGE_LABELS[language])
    for labels in extra:
        texts.update(labels.get(language, {}))
    return texts


def choose_language(asked: str | None, cookie: str | None, accept: str) -> str:
    """`?lang=` first, then the language chosen before (cookie), then Accept-Language."""
    for candidate in (asked, cookie):
        if candidate in LANGUAGES:
            return candidate
    return _from_accept_language(accept)


def _from_accept_language(header: str) -> str:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
