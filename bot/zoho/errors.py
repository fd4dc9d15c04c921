"""What can go wrong talking to Zoho CRM, as typed errors that carry the facts (never a token or a URL query).

```
CrmError                  Zoho could not do what was asked; nothing more is known
 ├── FieldRejected        Zoho (or the org's field list) refused one field's value: nothing was saved
 ├── LeadNotFound         no such record in the person's org (never existed, deleted, another org's)
 ├── NoPermission         the person's Zoho profile does not allow the operation
 ├── SearchRejected       the search words cannot be searched for (too short)
 ├── ReconnectNeeded      Zoho no longer accepts the connection's token: the person must log in again
 ├── RateLimited          Zoho answered 429 for the org
 ├── ZohoTimeout          Zoho did not answer in time; whether a write happened is unknown
 ├── CrmBusy              the call waited its whole time for a free worker and was never sent
 ├── ZohoUnavailable      a server error, an answer that is not Zoho's API, or Zoho could not be reached
 ├── RequestRefused       Zoho refused the request for a reason not named above (its code and message kept)
 └── RequestNotMade       the SDK would not build the request (a bug of ours: logged with what it said)
```
Beside them `store.NotConnected` says the person has no connection (any more). Turning these into words for a
person is done in one place: `bot.slack.views.errors`.
"""

from __future__ import annotations


class CrmError(Exception):
    """Zoho could not do what was asked. `detail` is for the log, not for people."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or type(self).__name__)
        self.detail = detail


class FieldRejected(CrmError):
    """Zoho refused the value of one field: `code` is Zoho's (MANDATORY_NOT_FOUND, INVALID_DATA, DUPLICATE_DATA)
    Nothing was saved. (Unknown and read-only fields never get this far: the Lead service checks every key
    against the org's fields first.)"""

    def __init__(self, api_name: str, value: str, code: str, zoho_message: str = "") -> None:
        super().__init__(f"{code} {api_name}")
        self.api_name = api_name
        self.value = value
        self.code = code
        self.zoho_message = zoho_message
        self.label = ""  # what the org calls the field, when the caller knows (the API name is shown otherwise)


class SearchRejected(CrmError):
    """The search words cannot be searched for (Zoho needs at least 2 characters)."""

    def __init__(self, words: str) -> None:
        super().__init__("search words too short")
        self.words = words


class LeadNotFound(CrmError):
    """No Lead with this id in the user's org (never existed, deleted, or another org's)."""

    def __init__(self, lead_id: str) -> None:
        super().__init__(f"no Lead {lead_id[:40]}")
        self.lead_id = lead_id


class NoPermission(CrmError):
    """The user's Zoho profile does not allow this operation on Leads (`operation`: a verb such as "delete")."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"no permission to {operation}")
        self.operation = operation


class ReconnectNeeded(CrmError):
    """Zoho no longer accepts this connection's token (INVALID_TOKEN, OAUTH_SCOPE_MISMATCH, refresh refused,
    token gone from the store). The caller may try one refresh, then must ask the user to log in again."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class RateLimited(CrmError):
    """Zoho refused the call for too many requests (429); `retry_after` seconds, when Zoho said."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("429")
        self.retry_after = retry_after


WRITES = frozenset({"create", "update", "delete"})


class ZohoTimeout(CrmError):
    """Zoho did not answer within the time allowed; whether a write happened is unknown. `waited`: the seconds of
    it spent waiting for a turn (a worker thread, an org slot) before the request was sent."""

    def __init__(self, seconds: float, *, waited: float = 0.0, operation: str = "") -> None:
        waiting = f" ({waited:.1f} s of it waiting for a turn)" if waited else ""
        super().__init__(f"no answer in {seconds:g} s{waiting}")
        self.seconds = seconds
        self.waited = waited
        self.operation = operation

    @property
    def may_have_written(self) -> bool:
        return self.operation in WRITES or not self.operation


class CrmBusy(CrmError):
    """The request waited its whole time allowed for a free worker and was never sent to Zoho."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no free worker in {seconds:g} s")
        self.seconds = seconds


class ZohoUnavailable(CrmError):
    """Zoho answered with a server error, something that is not its API, or could not be reached."""

    def __init__(self, status: int | None = None, detail: str = "") -> None:
        super().__init__(detail or f"HTTP {status}")
        self.status = status


class RequestRefused(CrmError):
    """Zoho refused the request with a code none of the errors above stands for."""

    def __init__(self, code: str, zoho_message: str = "") -> None:
        super().__init__(f"{code}: {zoho_message or 'no details'}")
        self.code = code
        self.zoho_message = zoho_message


class RequestNotMade(CrmError):
    """The SDK refused to make the request (a value of the wrong type, say): nothing reached Zoho."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
