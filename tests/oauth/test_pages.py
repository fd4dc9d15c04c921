"""The pages a person sees at the end of a login: small, accessible (language, title, one h1, a main landmark,
readable contrast), self-contained, and escaping whatever Zoho's answer put in them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from oauth.login import ChatPerson, Failure
from oauth.pages import (
    FAILURE_STATUS,
    FAILURE_TEXT,
    confirm_page,
    error_page,
    failure_page,
    success_page,
    undone_page,
)


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []
        self.css = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            self._open.remove(tag)

    def handle_data(self, data: str) -> None:
        for tag in self._open:
            self.text[tag] = self.text.get(tag, "") + data
        if self._open and self._open[-1] == "style":
            self.css += data

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)

    def attr(self, tag: str, name: str) -> str | None:
        return next((a.get(name) for t, a in self.tags if t == tag), None)


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


ALL_PAGES = {
    "success": success_page("ann@acme.test", "Acme Ltd", "United States"),
    "success, someone else's link": success_page(
        "ann@acme.test",
        "Acme Ltd",
        "United States",
        chat_user='Bob <script>"Jones"</script>',
        chat_email="bob@globex.test",
        undo_token="t0k3n",
    ),
    "continue?": confirm_page("st4te", ChatPerson("Bob <b>Jones</b>", "bob@globex.test", "bob", "Globex & Co")),
    "continue?, nameless": confirm_page("st4te", None),
    "disconnected": undone_page("ann@acme.test"),
    "error": error_page(),
    **{f.value: failure_page(f) for f in Failure},
}


@pytest.mark.parametrize("name", sorted(ALL_PAGES))
def test_every_page_is_small_and_has_the_accessible_outline(name):
    html = ALL_PAGES[name]
    page = outline(html)
    assert len(html.encode()) < 4096
    assert html.startswith("<!doctype html>")
    assert page.attr("html", "lang") == "en"
    assert page.text["title"].strip() and page.text["title"] == page.text["h1"]
    assert page.count("h1") == 1 and page.count("main") == 1
    assert page.attr("meta", "charset") == "utf-8"
    assert any(a.get("name") == "viewport" for t, a in page.tags if t == "meta")
    # Self-contained: nothing fetched from elsewhere, no script; the only forms post to ourselves.
    assert not {"script", "img", "link", "iframe"} & {t for t, _ in page.tags}
    forms = [(a.get("method"), a.get("action")) for t, a in page.tags if t == "form"]
    assert forms in ([], [("post", "/zoho/undo")], [("post", "/zoho/login")])
    assert "http" not in html


def _hex_luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fore: str, back: str) -> float:
    lighter, darker = sorted((_hex_luminance(fore), _hex_luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def css_rules(css: str) -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        declarations = dict(
            (k.strip(), v.strip()) for k, _, v in (d.partition(":") for d in body.split(";")) if v.strip()
        )
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


def test_text_colours_meet_wcag_aa_contrast_on_their_backgrounds():
    rules = css_rules(outline(ALL_PAGES["success"]).css)
    card = rules["main"]["background"]
    text = rules["body"]["color"]
    pairs = {
        "body text on the card": (text, card),
        "body text on the page": (text, rules["body"]["background"]),
        "success heading": (rules[".ok h1"]["color"], card),
        "failure heading": (rules[".fail h1"]["color"], card),
        "code": (text, rules["code"]["background"]),
    }
    for what, (fore, back) in pairs.items():
        assert contrast(fore, back) >= 4.5, f"{what}: {fore} on {back} is {contrast(fore, back):.2f}:1"


def test_the_success_page_names_the_zoho_user_org_and_data_centre_escaped():
    html = success_page("ann@acme.test", 'Acme <b>"Ltd"</b> & Co', "Europe")
    assert "ann@acme.test" in html and "Europe data centre" in html
    assert "Acme &lt;b&gt;&quot;Ltd&quot;&lt;/b&gt; &amp; Co" in html and "<b>" not in html
    assert "You can close this tab and go back to Slack." in html


def test_every_failure_has_a_page_a_status_and_the_way_back():
    assert set(FAILURE_TEXT) == set(Failure) == set(FAILURE_STATUS)
    for failure in Failure:
        assert "/lead login" in failure_page(failure)
        assert FAILURE_STATUS[failure] in (200, 400, 403, 410, 503)


def test_the_continue_page_names_whose_link_it_is_escaped_and_offers_one_button():
    html = ALL_PAGES["continue?"]
    page = outline(html)
    assert "Bob &lt;b&gt;Jones&lt;/b&gt;" in html and "(@bob)" in html and "Globex &amp; Co" in html
    assert "<b>" not in html
    assert page.count("button") == 1 and page.text["button"] == "Continue"
    assert "Not you? Close this tab" in html
    assert "Continue?" in page.text["p"]


def test_the_continue_button_is_readable():
    rules = css_rules(outline(ALL_PAGES["continue?"]).css)
    assert contrast(rules["button"]["color"], rules["button"]["background"]) >= 4.5
