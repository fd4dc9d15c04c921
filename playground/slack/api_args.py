"""The arguments and error answers shared by the emulated Web API methods."""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """A Slack error answer: `{"ok": false, "error": code, **extra}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def json_arg(args: dict[str, Any], name: str) -> Any:
    """The argument decoded from JSON when it came as a string (form/query), as is otherwise."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] bad JSON: {name}"]}) from exc
    return value


def required_arg(args: dict[str, Any], name: str) -> str:
    """The argument as a string; `invalid_arguments` when it is missing or empty."""
    value = args.get(name)
    if value in (None, ""):
        raise ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {name}"]})
    return str(value)
