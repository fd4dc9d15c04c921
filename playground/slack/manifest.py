"""What the emulated Slack reads from the app's manifest (app.yaml at the repository root), as real Slack does
when the app is created from it."""

from __future__ import annotations

from pathlib import Path

import yaml

APP_MANIFEST = Path(__file__).resolve().parents[2] / "app.yaml"


def unfurl_domains(manifest: Path = APP_MANIFEST) -> tuple[str, ...]:
    """The manifest's `features.unfurl_domains`: Slack sends `link_shared` for links to these (and subdomains)."""
    loaded = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    return tuple(str(domain) for domain in (loaded.get("features") or {}).get("unfurl_domains") or ())
