"""What the Lead form carries through Slack in its `private_metadata` (at most 3000 characters): the Lead being
edited, where to say the result, the page shown, what was typed on the other pages and the required fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PRIVATE_METADATA_MAX = 3000


class TooMuchToCarry(ValueError):
    """What was typed on the other pages does not fit in the form's private_metadata."""


@dataclass(frozen=True)
class FormContext:
    """What the form carries through Slack in `private_metadata`: the Lead being edited (None when creating),
    where to say the result (the channel and response_url of the command that opened it), the page shown (0 for
    the first), what was typed on the other pages ({API name: text}) and, for a form of several pages, the
    required fields (Slack checks those of the page shown only)."""

    lead_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None
    page: int = 0
    carried: Mapping[str, str] = field(default_factory=dict)
    required: Mapping[str, str] = field(default_factory=dict)  # {API name: label}

    def encode(self) -> str:
        """Compact JSON of at most 3000 characters; if it would be longer, the response_url and then the
        channel are left out. Raises TooMuchToCarry when the carried values alone do not fit."""
        data: dict[str, Any] = {"l": self.lead_id, "c": self.channel_id, "r": self.response_url}
        if self.page:
            data["p"] = self.page
        if self.carried:
            data["v"] = dict(self.carried)
        if self.required:
            data["q"] = dict(self.required)
        for drop in ((), ("r",), ("r", "c")):
            kept = {k: v for k, v in data.items() if v is not None and k not in drop}
            encoded = json.dumps(kept, separators=(",", ":"), ensure_ascii=False)
            if len(encoded) <= PRIVATE_METADATA_MAX:
                return encoded
        raise TooMuchToCarry("what was typed on the other pages is too long to carry")

    @classmethod
    def decode(cls, private_metadata: str) -> FormContext:
        """The context in a view's private_metadata; anything we did not write gives an empty context."""
        try:
            data = json.loads(private_metadata or "{}")
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        page = data.get("p")
        carried = data.get("v")
        required = data.get("q")
        return cls(
            lead_id=text("l"),
            channel_id=text("c"),
            response_url=text("r"),
            page=page if isinstance(page, int) and not isinstance(page, bool) and page > 0 else 0,
            carried={k: v for k, v in carried.items() if isinstance(v, str)} if isinstance(carried, dict) else {},
            required={k: v for k, v in required.items() if isinstance(v, str)} if isinstance(required, dict) else {},
        )
