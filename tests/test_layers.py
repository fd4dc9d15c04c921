"""The layers of the product and the one way their imports point, checked on the source (every import, lazy
ones inside functions included):

    runtime (bot.app, bot.server, bot.__main__, bot.check, bot.health)   builds and runs everything
      └▶ bot.slack     everything that speaks Slack: the front door, commands, views
           └▶ bot.leads     the Lead domain and LeadService: no Slack, no SDK, no HTTP server
                └▶ bot.zoho      everything that speaks Zoho CRM through the SDK
                oauth            the login, refresh and revocation: no Slack
                     └▶ store         the database and the SDK's TokenStore: no Slack
    bot.limits, bot.logs, bot.metrics, bot.tasks, bot.admission, bot.settings, bot.process_folders: plumbing any
    layer of bot/ may use; they use none of the layers.

A module may import its own layer and the layers below it, never one above. `playground/` (emulators, console)
sits beside the product: the product never imports it, except `python -m bot --local`'s lazy import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("bot", "oauth", "store")

# (module prefix, rank): the longest matching prefix decides. Higher ranks may import lower ones.
RANKS: tuple[tuple[str, int], ...] = (
    ("store", 0),
    ("bot.limits", 0),
    ("bot.logs", 0),
    ("bot.metrics", 0),
    ("bot.tasks", 0),
    ("bot.admission", 0),
    ("bot.settings", 0),
    ("bot.process_folders", 0),
    ("oauth", 1),
    ("bot.zoho", 1),
    ("bot.leads", 2),
    ("bot.slack", 3),
    ("bot", 4),  # the runtime: bot.app, bot.server, bot.__main__, bot.check, bot.health
    ("playground", 5),
)
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "bot.leads": ("slack_bolt", "slack_sdk", "aiohttp", "zohocrmsdk"),
    "bot.zoho": ("slack_bolt", "slack_sdk", "aiohttp"),
    "oauth": ("slack_bolt", "slack_sdk"),
    "store": ("slack_bolt", "slack_sdk", "aiohttp"),
}
ALLOWED_EXCEPTIONS = {("bot.__main__", "playground.local")}  # --local from a checkout; a wheel says it needs one
BOLT_LISTENER_METHODS = {"command", "action", "view", "event", "shortcut", "options", "message", "function", "use"}


def rank_of(module: str) -> int | None:
    matches = [(len(prefix), rank) for prefix, rank in RANKS if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1] if matches else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> list[tuple[str, Path]]:
    return sorted((module_name(path), path) for package in PRODUCT for path in (ROOT / package).rglob("*.py"))


def imports_of(path: Path, module: str) -> list[str]:
    """Every module `path` imports, absolute, at any depth of its code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [
                f"{base}.{alias.name}" if rank_of(f"{base}.{alias.name}") is not None else base for alias in node.names
            ]
    return found


def layer_violations(modules: list[tuple[str, Path]]) -> list[str]:
    problems: list[str] = []
    for module, path in modules:
        own = rank_of(module)
        for imported in imports_of(path, module):
            target = rank_of(imported)
            if any(module == m and (imported + ".").startswith(t + ".") for m, t in ALLOWED_EXCEPTIONS):
                continue
            if target is not None and own is not None and target > own:
                problems.append(f"{module} imports {imported}, a layer above it")
            for prefix, libraries in FORBIDDEN_LIBRARIES.items():
                if (module == prefix or module.startswith(prefix + ".")) and imported.split(".")[0] in libraries:
                    problems.append(f"{module} imports {imported}, which its layer must not know")
    return problems


def test_no_module_imports_a_layer_above_it_or_a_library_its_layer_must_not_know() -> None:
    modules = product_modules()
    assert len(modules) > 40  # the scan found the product
    assert layer_violations(modules) == []


def test_the_check_catches_a_domain_module_that_speaks_slack(tmp_path: Path) -> None:
    rogue = ROOT / "bot" / "leads" / "model.py"
    copy = tmp_path / "model.py"
    copy.write_text(
        rogue.read_text(encoding="utf-8") + "\nfrom slack_sdk import WebClient\nfrom bot.slack import text\n"
    )
    problems = layer_violations([("bot.leads.model", copy)])
    assert problems == [
        "bot.leads.model imports slack_sdk, which its layer must not know",
        "bot.leads.model imports bot.slack.text, a layer above it",
    ]


def test_only_the_front_door_registers_listeners_on_bolt() -> None:
    """Every Slack listener passes the front door: nothing else calls bolt's listener decorators."""
    offenders: list[str] = []
    for module, path in product_modules():
        if module == "bot.slack.front_door":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Attribute) and node.attr in BOLT_LISTENER_METHODS):
                continue
            receiver = node.value
            name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
            if name in ("bolt", "_bolt", "app", "bolt_app"):
                offenders.append(f"{module}:{node.lineno} {name}.{node.attr}")
    assert offenders == []


@pytest.mark.parametrize("package", ["bot.leads", "bot.zoho"])
def test_the_lower_layers_exist_where_the_rule_expects_them(package: str) -> None:
    assert any(module.startswith(package + ".") for module, _ in product_modules())
