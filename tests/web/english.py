"""Reading a page as an English reader would: the text a person sees (and the words of labels a
screen reader says), each piece with whether it stands inside an element marked `lang="sv"`. The
window's title (the page's <head>) is left out: it is one string, so the plan's Swedish words in it
("1.1.1 Företagsbesök politiker · planflow") cannot be marked."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Attributes whose words a person reads or hears.
WORDED_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.langs: list[str | None] = []
        self.skip = 0
        self.pieces: list[tuple[str, bool]] = []

    def _swedish(self) -> bool:
        return next((lang for lang in reversed(self.langs) if lang), None) == "sv"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        lang = attributes.get("lang")
        if tag in ("script", "style", "head"):
            self.skip += 1
        inside = self._swedish() if lang is None else lang == "sv"
        for name in WORDED_ATTRIBUTES:
            if attributes.get(name) and not self.skip:
                self.pieces.append((str(attributes[name]), inside))
        if tag not in VOID:
            self.langs.append(lang)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.langs.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip -= 1
        if tag not in VOID and self.langs:
            self.langs.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.pieces.append((data.strip(), self._swedish()))


def pieces(html: str) -> list[tuple[str, bool]]:
    """The page's words, piece by piece, each with whether it is marked Swedish."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.pieces


def unmarked(html: str) -> list[str]:
    """The page's words outside any element marked `lang="sv"`."""
    return [text for text, swedish in pieces(html) if not swedish]


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
