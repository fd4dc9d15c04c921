"""Turning a slash command's `text` into a sub-command and its arguments."""

from __future__ import annotations


def split_subcommand(text: str) -> tuple[str, str]:
    """("list", "acme corp") for "list acme corp": the first word in lower case, and the rest as typed."""
    stripped = text.strip()
    if not stripped:
        return "", ""
    head, _, rest = stripped.partition(" ")
    head2, _, rest2 = stripped.partition("\n")
    if len(head2) < len(head):
        head, rest = head2, rest2
    return head.lower(), rest.strip()
