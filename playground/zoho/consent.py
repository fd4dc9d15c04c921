"""The HTML of the emulated Zoho consent page and its error page.

Stable hooks for browser tests: `#consent-form`, `#email` (type or pick an account), `#scopes li`,
`button[name=action][value=accept]`, `button[name=action][value=deny]`, `#error` (role=alert).
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from .directory import OAuthClient, ZohoUser

# The authorize parameters carried from the GET to the POST of the consent form.
CARRIED_PARAMS = ("client_id", "response_type", "redirect_uri", "scope", "access_type", "prompt", "state")

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem} ul{padding-left:1.2rem} label{display:block;font-weight:600;margin:.8rem 0 .3rem}
input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}
.actions{display:flex;gap:.8rem;margin-top:1.2rem} button{font-size:1rem;padding:.5rem 1.4rem}
#error{color:#a40000;font-weight:600} .note{color:#555;font-size:.9rem}
"""


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def consent_page(client: OAuthClient, params: dict[str, str], users: list[ZohoUser], error: str | None = None) -> str:
    """The page asking a person to pick their Zoho account and accept or deny the app's scopes."""
    scopes = [s for s in params.get("scope", "").split(",") if s.strip()]
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in CARRIED_PARAMS
        if params.get(name) is not None
    )
    options = "".join(f'<option value="{escape(u.email)}">{escape(u.full_name)}</option>' for u in users)
    first = escape(users[0].email) if users else ""
    alert = f'<p id="error" role="alert">{escape(error)}</p>' if error else ""
    offline = (
        '<p class="note">The app will keep access when you are away (offline access).</p>'
        if params.get("access_type") == "offline"
        else ""
    )
    body = (
        f"<h1>{escape(client.name)} would like to access your Zoho account</h1>"
        f"{alert}"
        '<form id="consent-form" method="post" action="/oauth/v2/auth">'
        f"{hidden}"
        '<label for="email">Zoho account (email)</label>'
        f'<input id="email" name="email" type="email" list="known-accounts" autocomplete="email" '
        f'required value="{first}">'
        f'<datalist id="known-accounts">{options}</datalist>'
        "<h2>The app asks to</h2>"
        '<ul id="scopes">' + "".join(f"<li>{escape(s.strip())}</li>" for s in scopes) + "</ul>"
        f"{offline}"
        '<div class="actions">'
        '<button type="submit" name="action" value="accept">Accept</button>'
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</div></form>"
    )
    return _document("Zoho Accounts - Authorize", body)


def error_page(title: str, message: str) -> str:
    """A plain error page (unknown client, unregistered redirect URI, …); nothing is redirected."""
    body = f'<h1>{escape(title)}</h1><p id="error" role="alert">{escape(message)}</p>'
    return _document(f"Zoho Accounts - {title}", body)


def html_response(text: str, status: int = 200) -> web.Response:
    """An HTML answer (`text/html; charset=utf-8`)."""
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def error_response(title: str, message: str, status: int = 400) -> web.Response:
    """The error page as an HTTP answer."""
    return html_response(error_page(title, message), status)
