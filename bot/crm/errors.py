"""What can go wrong talking to Zoho CRM, as typed errors whose `message` a salesperson understands.

The bot renders `message` as plain text (escape it for mrkdwn). None of them carries a token or a URL query.
"""

from __future__ import annotations

from bot.leads.arguments import echo
from bot.leads.fields import label_for


class CrmError(Exception):
    """Zoho could not do what was asked. `message` says why, for the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FieldRejected(CrmError):
    """Zoho refused the value of one field: its code is Zoho's (MANDATORY_NOT_FOUND, INVALID_DATA,
    DUPLICATE_DATA) or ours (UNKNOWN_FIELD, READ_ONLY: checked against the org's field list). Nothing was saved."""

    def __init__(
        self, api_name: str, value: str, code: str, zoho_message: str = "", suggestion: str | None = None
    ) -> None:
        self.api_name = api_name
        self.value = value
        self.code = code
        self.zoho_message = zoho_message
        self.suggestion = suggestion
        label = label_for(api_name) if api_name else "a field"
        shown = f" `{echo(value, 60)}`" if value else ""
        if code == "MANDATORY_NOT_FOUND":
            text = f"Zoho needs {label}, and it was empty"
        elif code == "DUPLICATE_DATA":
            text = f"Zoho already has a Lead with {label}{shown}, and it must be unique"
        elif code == "UNKNOWN_FIELD":
            text = f"Zoho has no Lead field `{echo(api_name, 60)}` in your organisation"
            if suggestion:
                text += f" — did you mean `{suggestion}`?"
        elif code == "READ_ONLY":
            text = f"{label} is filled in by Zoho and cannot be set"
        else:
            said = f" (Zoho said: {echo(zoho_message, 100)})" if zoho_message else ""
            text = f"Zoho did not accept {label}{shown}{said}"
        super().__init__(text + ". Nothing was saved.")


class SearchRejected(CrmError):
    """The search words cannot be searched for (Zoho needs at least 2 characters)."""

    def __init__(self, words: str) -> None:
        self.words = words
        super().__init__(f"Search for at least 2 characters (you typed `{echo(words, 60)}`).")


class LeadNotFound(CrmError):
    """No Lead with this id in the user's org (never existed, deleted, or another org's)."""

    def __init__(self, lead_id: str) -> None:
        self.lead_id = lead_id
        super().__init__(f"There is no Lead with id `{echo(lead_id, 40)}` in your Zoho CRM (or it was deleted).")


class NoPermission(CrmError):
    """The user's Zoho profile does not allow this operation on Leads."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(f"Your Zoho CRM profile does not allow you to {operation} Leads. Ask your Zoho administrator.")


class ReconnectNeeded(CrmError):
    """Zoho no longer accepts this connection's token (INVALID_TOKEN, OAUTH_SCOPE_MISMATCH, refresh refused,
    token gone from the store). The caller may try one refresh, then must ask the user to log in again."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__("Your Zoho connection has expired or was revoked. Please connect again with `/lead login`.")


class RateLimited(CrmError):
    """Zoho refused the call for too many requests (429); `retry_after` seconds, when Zoho said."""

    def __init__(self, retry_after: float | None) -> None:
        self.retry_after = retry_after
        when = f" in {retry_after:g} seconds" if retry_after else " in a minute"
        super().__init__(f"Zoho CRM is limiting requests for your organisation right now. Try again{when}.")


class ZohoTimeout(CrmError):
    """Zoho did not answer within the time allowed; whether a write happened is unknown."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            f"Zoho CRM did not answer within {seconds:g} seconds. Check with `/lead list` before trying again."
        )


class CrmBusy(CrmError):
    """The request waited its whole time allowed for a free worker and was never sent to Zoho."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            "Too many Zoho CRM requests are waiting right now, so yours was not sent (nothing was changed). "
            "Please try again in a minute."
        )


class ZohoUnavailable(CrmError):
    """Zoho answered with a server error, something that is not its API, or could not be reached."""

    def __init__(self, status: int | None = None, detail: str = "") -> None:
        self.status = status
        self.detail = detail
        super().__init__("Zoho CRM is not available right now. Please try again in a few minutes.")
