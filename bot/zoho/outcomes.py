"""Turning what the SDK returns or raises into plain values or typed CrmErrors (docs/reference/zoho.md §5–§6).

The SDK returns, rather than raises, Zoho's error answers: an `APIException` as the whole answer (401, 403,
429, 5xx, request-level 400s) or as one item of an `ActionWrapper` (per-record errors of create/update/delete).
A 204 answer has no object. When it cannot parse a body at all it logs and returns None; then the status the
thread last saw (`http_bounds.last_answer`) tells what happened. It raises `SDKException` for local failures
and wraps network errors in it (`cause`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NoReturn

import requests
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.fields.api_exception import APIException as FieldsAPIException
from zohocrmsdk.src.com.zoho.crm.api.record import APIException, SuccessResponse

from bot.logs import redact
from bot.zoho import http_bounds
from bot.zoho.errors import (
    CrmError,
    FieldRejected,
    LeadNotFound,
    NoPermission,
    RateLimited,
    ReconnectNeeded,
    RequestNotMade,
    RequestRefused,
    ZohoTimeout,
    ZohoUnavailable,
)

FIELD_CODES = frozenset({"MANDATORY_NOT_FOUND", "INVALID_DATA", "DUPLICATE_DATA"})
API_EXCEPTIONS = (APIException, FieldsAPIException)
RECONNECT_CODES = frozenset({"INVALID_TOKEN", "OAUTH_SCOPE_MISMATCH", "AUTHENTICATION_FAILURE", "INVALID_OAUTHTOKEN"})
_VERBS = {"create": "create", "read": "see", "list": "see", "update": "edit", "delete": "delete", "search": "search"}

log = logging.getLogger(__name__)


def _text(choice: Any) -> str:
    value = choice.get_value() if hasattr(choice, "get_value") else choice
    return "" if value is None else str(value)


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds from a Retry-After header in seconds form; None if absent or not a number."""
    if not header:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    return str(value) if value is not None else None


def request_error(code: str, status: int | None, retry_after: str | None, operation: str) -> CrmError | None:
    """The CrmError for a request-level refusal (token, permission, rate, server), or None if it is not one."""
    if code in RECONNECT_CODES or status == 401:
        return ReconnectNeeded(code or "401")
    if code == "NO_PERMISSION" or status == 403:
        return NoPermission(_VERBS.get(operation, operation))
    if code == "TOO_MANY_REQUESTS" or status == 429:
        return RateLimited(retry_after_seconds(retry_after))
    if (status is not None and status >= 500) or code == "INTERNAL_ERROR":
        return ZohoUnavailable(status, code)
    return None


def raise_api_exception(
    error: APIException | FieldsAPIException,
    status: int | None,
    headers: Any,
    *,
    operation: str,
    values: Mapping[str, str] | None = None,
    lead_id: str | None = None,
) -> NoReturn:
    """Raise the CrmError for one Zoho error answer (request-level or one record's)."""
    code = _text(error.get_code())
    message = _text(error.get_message())
    details = error.get_details() or {}
    refusal = request_error(code, status, _header(headers, "Retry-After"), operation)
    if refusal is not None:
        raise refusal
    api_name = str(details.get("api_name") or "")
    if lead_id is not None and code == "INVALID_DATA" and (api_name == "id" or ("id" in details and not api_name)):
        raise LeadNotFound(lead_id)
    if code in FIELD_CODES:
        raise FieldRejected(api_name, (values or {}).get(api_name, ""), code, message)
    raise RequestRefused(str(code or status), message)


def no_answer(operation: str) -> NoReturn:
    """Raise for a call the SDK returned nothing for: decide by the last HTTP status seen in this thread."""
    answer = http_bounds.last_answer()
    if answer is None:
        raise ZohoUnavailable(None, "no answer")
    if answer.status == 429:
        raise RateLimited(retry_after_seconds(answer.retry_after))
    if answer.status == 401:
        raise ReconnectNeeded("401")
    if answer.status == 403:
        raise NoPermission(_VERBS.get(operation, operation))
    raise ZohoUnavailable(answer.status, f"unreadable answer ({answer.content_type or 'no content type'})")


def check_response(
    response: Any, *, operation: str, values: Mapping[str, str] | None = None, lead_id: str | None = None
) -> Any:
    """The answer object of an APIResponse (None for 204); raises the CrmError for an error answer."""
    if response is None:
        no_answer(operation)
    status = response.get_status_code()
    answer = response.get_object()
    if isinstance(answer, API_EXCEPTIONS):
        raise_api_exception(answer, status, response.get_headers(), operation=operation, values=values, lead_id=lead_id)
    if status == 204:
        return None
    wrapped = hasattr(answer, "get_data")  # 4xx answers with per-record outcomes are wrapped
    if answer is None or status is None or status >= 500 or (status >= 400 and not wrapped):
        no_answer(operation)
    return answer


def action_details(
    response: Any, *, operation: str, values: Mapping[str, str] | None = None, lead_id: str | None = None
) -> dict[str, Any]:
    """The `details` of the single record outcome of a create/update/delete; raises its CrmError if it failed."""
    answer = check_response(response, operation=operation, values=values, lead_id=lead_id)
    items = answer.get_data() if answer is not None and hasattr(answer, "get_data") else None
    if not items:
        raise ZohoUnavailable(response.get_status_code(), "no record outcome")
    item = items[0]
    if isinstance(item, API_EXCEPTIONS):
        raise_api_exception(
            item,
            response.get_status_code(),
            response.get_headers(),
            operation=operation,
            values=values,
            lead_id=lead_id,
        )
    if not isinstance(item, SuccessResponse):
        raise ZohoUnavailable(response.get_status_code(), f"unexpected outcome {type(item).__name__}")
    return dict(item.get_details() or {})


def from_sdk_exception(error: SDKException, *, operation: str, read_timeout: float) -> CrmError:
    """The CrmError for an SDKException: its network cause, a Zoho refusal met while the SDK fetched field
    metadata (code API_EXCEPTION), or a refused or missing token."""
    cause: BaseException | None = error
    seen = 0
    while cause is not None and seen < 10:
        if isinstance(cause, requests.exceptions.Timeout):
            return ZohoTimeout(read_timeout, operation=operation)
        if isinstance(cause, requests.exceptions.RequestException):
            return ZohoUnavailable(None, type(cause).__name__)
        if isinstance(cause, ValueError) and not isinstance(cause, SDKException):
            return ZohoUnavailable(None, "unreadable answer")
        next_cause = getattr(cause, "cause", None) or cause.__cause__
        cause, seen = next_cause, seen + 1
    code = str(error.code or "")
    answer = http_bounds.last_answer()
    if code == "API_EXCEPTION":
        details = error.details if isinstance(error.details, dict) else {}
        zoho_code = details.get("code")
        status = answer.status if answer is not None else (zoho_code if isinstance(zoho_code, int) else None)
        refusal = request_error(
            str(zoho_code or ""), status, answer.retry_after if answer is not None else None, operation
        )
        if refusal is not None:
            return refusal
    if (
        code in ("INVALID TOKEN ERROR", "TOKEN_STORE", "TOKEN ERROR", "MANDATORY VALUE ERROR")
        or code in RECONNECT_CODES
    ):
        return ReconnectNeeded(code)
    if answer is not None and answer.status >= 500:
        return ZohoUnavailable(answer.status, code)
    # Not Zoho's answer but the SDK refusing the request (a value of the wrong type, say): that is our bug, and the
    # log must say what it was. The SDK's message names fields and types, never token values.
    log.warning("the Zoho SDK refused a %s: %s %s", operation, code or type(error).__name__, redact(str(error))[:300])
    return RequestNotMade(code or type(error).__name__)
