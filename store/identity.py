"""Who a token belongs to on the chat side, and how the Zoho SDK names that person."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatIdentity:
    """A person in a chat workspace: (workspace/team id, user id). Maps to at most one Zoho connection."""

    team_id: str
    user_id: str

    def __post_init__(self) -> None:
        if not self.team_id or not self.user_id:
            raise ValueError("a chat identity needs both a team id and a user id")

    def __str__(self) -> str:
        """`T0123/U0456`, as log lines name a person."""
        return f"{self.team_id}/{self.user_id}"

    @property
    def user_signature(self) -> str:
        """The SDK `UserSignature` name under which this person's token is stored and found."""
        return f"chat:{self.team_id}:{self.user_id}"
