"""The small HTML pages a person sees in the browser during the login, and the headers every one is sent with.

They never carry a Zoho token. The only inline content is the style sheet, allowed by its hash in the
Content-Security-Policy, so a page that somehow carried markup could still run nothing and load nothing.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from oauth.login import ChatPerson, Failure

_STYLE = """
 body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f6f8; color: #1d1c1d; }
 main { max-width: 34rem; margin: 12vh auto; background: #fff; padding: 2rem 2.25rem; border-radius: 12px;
        box-shadow: 0 1px 4px rgba(0,0,0,.12); }
 h1 { font-size: 1.4rem; margin-top: 0; }
 .ok h1 { color: #007a5a; } .fail h1 { color: #b3261e; }
 code { background: #f0f0f2; padding: .1rem .3rem; border-radius: 4px; }
 button { font: inherit; padding: .5rem 1.25rem; border: 0; border-radius: 6px; background: #1d5fa8; color: #fff; }
 button:focus-visible { outline: 3px solid #1d1c1d; outline-offset: 2px; }
"""
_STYLE_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode() + "'"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<main class="{kind}">
<h1 id="title">{title}</h1>
{body}
</main>
</body>
</html>
"""


def page(title: str, body_html: str, *, kind: str) -> str:
    """A whole page; `body_html` must already be escaped."""
    return _PAGE.format(title=escape(title), body=body_html, kind=kind, style=_STYLE)


def security_headers(*, https: bool, form_targets: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers every login page is sent with. `form_targets`: origins besides ours a form may lead to
    (browsers hold a form's redirects to `form-action` too, so the Continue button needs Zoho's)."""
    form_action = " ".join(("'self'", *form_targets))
    headers = {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {_STYLE_SOURCE}; form-action {form_action}; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def confirm_page(state: str, person: ChatPerson | None) -> str:
    """ "Connect your Zoho CRM to <this Slack user>?": nothing happens at Zoho before Continue is pressed."""
    if person is not None:
        handle = f" (@{escape(person.handle)})" if person.handle else ""
        workspace = f" in <strong>{escape(person.workspace)}</strong>" if person.workspace else ""
        whom = f"Slack user <strong>{escape(person.name)}</strong>{handle}{workspace}"
    else:
        whom = "the Slack user this link was sent to (Slack could not tell us their name just now)"
    body = (
        f'<p id="whom">This connects your Zoho CRM to {whom}. Continue?</p>'
        '<form method="post" action="/zoho/login">'
        f'<input type="hidden" name="state" value="{escape(state)}">'
        '<button type="submit">Continue</button>'
        "</form>"
        "<p>Not you? Close this tab: nothing is connected unless you continue and accept at Zoho.</p>"
    )
    return page("Connect your Zoho CRM?", body, kind="ask")


def success_page(
    email: str,
    org_name: str,
    data_centre: str,
    *,
    chat_user: str | None = None,
    chat_email: str | None = None,
    undo_token: str | None = None,
) -> str:
    body = (
        f'<p id="who">Connected to Zoho CRM as <strong>{escape(email)}</strong>, '
        f"{escape(org_name)}, {escape(data_centre)} data centre.</p>"
    )
    if chat_user:
        body += f'<p id="for">The connection belongs to Slack user <strong>{escape(chat_user)}</strong>.</p>'
    if undo_token:
        theirs = f" ({escape(chat_email)})" if chat_email else ""
        body += (
            '<section id="check" aria-labelledby="check-title">'
            '<h2 id="check-title">Is this you?</h2>'
            f"<p>This Zoho account's e-mail is not the one of the Slack user{theirs} who asked for this link. "
            f"If you are not {escape(chat_user or 'that Slack user')}, someone sent you their link: disconnect now, "
            "and your Zoho account stays yours.</p>"
            '<form method="post" action="/zoho/undo">'
            f'<input type="hidden" name="token" value="{escape(undo_token)}">'
            '<button type="submit">Disconnect my Zoho account</button>'
            "</form></section>"
        )
    body += "<p>You can close this tab and go back to Slack.</p>"
    return page("You're connected to Zoho CRM", body, kind="ok")


def undone_page(email: str) -> str:
    body = (
        f"<p>Your Zoho account <strong>{escape(email)}</strong> is no longer connected, and its access was revoked "
        "at Zoho. Nothing else changed.</p>"
    )
    return page("Disconnected", body, kind="ok")


_AGAIN = "<p>Type <code>/lead login</code> in Slack for a fresh link.</p>"

FAILURE_TEXT: dict[Failure, tuple[str, str]] = {
    Failure.DENIED: (
        "Login cancelled",
        "<p>You chose not to allow access, so nothing was connected.</p>" + _AGAIN,
    ),
    Failure.NO_ORG: (
        "No Zoho CRM account",
        "<p>That Zoho account has no Zoho CRM organization. Ask your CRM administrator to add you, "
        "or sign in with the Zoho account you use for CRM.</p>" + _AGAIN,
    ),
    Failure.ZOHO_ERROR: ("Zoho did not complete the login", "<p>Zoho reported an error.</p>" + _AGAIN),
    Failure.BAD_LINK: (
        "This login link is not valid",
        "<p>The link is incomplete or was changed.</p>" + _AGAIN,
    ),
    Failure.USED_LINK: ("This login link was already used", "<p>Each link works once.</p>" + _AGAIN),
    Failure.EXPIRED_LINK: ("This login link has expired", "<p>Links are valid for 10 minutes.</p>" + _AGAIN),
    Failure.OTHER_BROWSER: (
        "Finish the login in the same browser",
        "<p>This login was started in another browser. Open the link from Slack here, "
        "then sign in to Zoho.</p>" + _AGAIN,
    ),
    Failure.UNTRUSTED_HOST: (
        "Unexpected Zoho server",
        "<p>The sign-in came back from a server that is not a known Zoho data centre, so it was refused "
        "and nothing was sent to it.</p>" + _AGAIN,
    ),
    Failure.ZOHO_UNREACHABLE: (
        "Zoho did not answer",
        "<p>Zoho could not be reached to finish the login. Nothing was saved; please try again in a minute.</p>"
        + _AGAIN,
    ),
    Failure.EXCHANGE_REFUSED: (
        "Zoho refused the login",
        "<p>Zoho did not accept the sign-in code (it may have expired: codes last two minutes).</p>" + _AGAIN,
    ),
    Failure.NOT_A_CRM_USER: (
        "Not a Zoho CRM user",
        "<p>The Zoho account you signed in with could not be found as a user of a CRM organization. "
        "Ask your CRM administrator, or sign in with your CRM account.</p>" + _AGAIN,
    ),
    Failure.REPLACED_LINK: (
        "This login link is no longer valid",
        "<p>The Slack user it was sent to has been sent a newer link, or has connected or logged out since, which "
        "closes their older links.</p>" + _AGAIN,
    ),
    Failure.EMAIL_MISMATCH: (
        "Zoho account not connected: e-mail differs",
        "<p>Here a Zoho account is connected only to the Slack user with the same e-mail address, and the "
        "Zoho account you signed in with has another one (or Slack could not confirm the Slack user's). "
        "Nothing was connected, and the access you just granted was revoked at Zoho.</p>"
        "<p>If this is your own link, sign in to Zoho with the account that has your Slack e-mail address.</p>"
        + _AGAIN,
    ),
}

FAILURE_STATUS: dict[Failure, int] = {
    Failure.DENIED: 200,
    Failure.NO_ORG: 200,
    Failure.ZOHO_ERROR: 400,
    Failure.BAD_LINK: 400,
    Failure.USED_LINK: 410,
    Failure.EXPIRED_LINK: 410,
    Failure.OTHER_BROWSER: 403,
    Failure.UNTRUSTED_HOST: 400,
    Failure.ZOHO_UNREACHABLE: 503,
    Failure.EXCHANGE_REFUSED: 400,
    Failure.NOT_A_CRM_USER: 403,
    Failure.REPLACED_LINK: 410,
    Failure.EMAIL_MISMATCH: 403,
}


def failure_page(failure: Failure) -> str:
    title, body = FAILURE_TEXT[failure]
    return page(title, body, kind="fail")


def error_page() -> str:
    return page(
        "Something went wrong",
        "<p>The login could not be finished because of an error on our side. Nothing was saved.</p>" + _AGAIN,
        kind="fail",
    )
