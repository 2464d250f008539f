"""A report as a format-neutral document: what it says and how it is structured, worded once in
the reader's language, with no layout. The writers in planflow.reports (PDF, Word, HTML) lay the
same document out, each in its own way, so the three say the same words in the same order.

A document is its metadata, the lines above its heading, its front matter and its sections; a
section is a heading and blocks, and may hold sections of its own (the nesting is the heading's
level). A status is a value, not a colour: a writer may tint it and must still print its words.

Words the plan says (its title, areas and activities, written in Swedish and never translated) are
`Quoted` where the document quotes them, alone or inside a `Phrase` of the document's own words:
both are strings, so every writer prints them as they are; a writer that can mark a language (HTML)
marks the quoted words with theirs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal


class Quoted(str):
    """Words quoted in the language they were written in (a plan's Swedish activity title in an
    English report): the words themselves, with their `language`."""

    language: str

    def __new__(cls, text: str, language: str) -> Quoted:
        quoted = super().__new__(cls, text)
        quoted.language = language
        return quoted

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return (str(self), self.language)

    @property
    def parts(self) -> tuple[str, ...]:
        return (self,)


class Phrase(str):
    """The document's words with quoted words inside ("Focus area 1: <the area's Swedish title>"):
    the whole text, with its `parts` in order, each a plain str or Quoted."""

    parts: tuple[str, ...]

    def __new__(cls, *parts: str) -> Phrase:
        phrase = super().__new__(cls, "".join(parts))
        phrase.parts = tuple(p for p in parts if p)
        return phrase

    def __getnewargs__(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.parts


@dataclass(frozen=True)
class Status:
    """A traffic light: `key` (green, yellow, red or unreported) lets a writer colour and mark it;
    `words` say it, for print in black and white and for readers who do not see colour."""

    key: str
    words: str


@dataclass(frozen=True)
class Text:
    """Text with an aside beneath it (a decision's rationale, a deviation's period): the aside is
    context, so a writer may set it smaller or muted."""

    text: str
    aside: str | None = None


# A table cell: text (a "\n" starts a new line), text with an aside, or a status.
Cell = str | Text | Status


@dataclass(frozen=True)
class Paragraph:
    """Running text; `tone` "lead" introduces (the period, the report's purpose), "muted" is context
    (who published it, a note that there is nothing to show)."""

    text: str
    tone: Literal["body", "lead", "muted"] = "body"
    block: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]
    block: ClassVar[str] = "list"


@dataclass(frozen=True)
class Column:
    """A table column: its header cell and whether it holds figures (set flush right)."""

    heading: str
    numeric: bool = False


# The characters a table's line holds in the writers' pages: 170 mm of DejaVu Sans at 8.5 pt.
TABLE_LINE = 100


@dataclass(frozen=True)
class Table:
    """A table whose header row is the columns' headings (repeated on every page where a writer
    can); `total`, when given, is a closing row that sums the others, its cells row headers."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[str, ...] | None = None
    block: ClassVar[str] = "table"

    def widths(
        self, line: float = TABLE_LINE, measure: Callable[[str], float] = len, padding: float = 2
    ) -> tuple[float, ...]:
        """Each column's share of the table's width (they add up to 1), from what it holds, so that
        every writer sizes columns by one rule: first every column as wide as its longest word, so
        that no word need break; what is left of a `line` goes to the columns whose lines are
        longer than that, in proportion to how much longer (as a browser lays out an HTML table).
        A column of one word stays narrow, a column of sentences takes the room. `measure` is the
        width of a text and `padding` a cell's inner margins, in the unit of `line`: characters by
        default, or what a writer measures in its own type."""
        cells = [[column.heading] for column in self.columns]
        for row in (*self.rows, *((self.total,) if self.total else ())):
            for texts, cell in zip(cells, row, strict=True):
                texts.extend(_cell_lines(cell))
        narrowest = [
            padding + max(measure(w) for text in texts for w in [*text.split(), ""]) for texts in cells
        ]
        widest = [padding + max(measure(text) for text in texts) for texts in cells]
        room, wanted = line - sum(narrowest), sum(widest) - sum(narrowest)
        if wanted <= 0 or room <= 0:
            shares = narrowest
        elif wanted <= room:
            shares = widest
        else:
            shares = [n + (w - n) * room / wanted for n, w in zip(narrowest, widest, strict=True)]
        return tuple(share / sum(shares) for share in shares)


def _cell_lines(cell: Cell) -> list[str]:
    """A cell's lines of text, as a writer sets them."""
    if isinstance(cell, Status):
        return [cell.words]
    if isinstance(cell, Text):
        return [*cell.text.split("\n"), *(cell.aside.split("\n") if cell.aside else ())]
    return cell.split("\n")


@dataclass(frozen=True)
class Series:
    """One bar of every group: a status (its key chooses colour and pattern) and its words."""

    key: str
    label: str


@dataclass(frozen=True)
class Group:
    """One group of bars: its label and one value per series, in the series' order."""

    label: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    """A grouped bar chart, as data: a writer draws it (planflow.reports.chart). `alt` is its
    alternative text; the same figures are in a table beside it."""

    title: str
    alt: str
    series: tuple[Series, ...]
    groups: tuple[Group, ...]
    block: ClassVar[str] = "chart"


@dataclass(frozen=True)
class Stamp:
    """The document's issue: which issue, when and by whom, and the signed audit checkpoint it
    anchors (`issued`); or that it is a working copy. The first line says which."""

    lines: tuple[str, ...]
    issued: bool
    block: ClassVar[str] = "stamp"


@dataclass(frozen=True)
class Section:
    """A heading and what follows it, up to the next heading of the same level or higher."""

    heading: str
    blocks: tuple[Block, ...]
    block: ClassVar[str] = "section"


Block = Paragraph | BulletList | Table | Chart | Stamp | Section


@dataclass(frozen=True)
class Document:
    """A whole report. `title` names it in metadata, running heads and the window; `heading` is the
    first heading on its first page, under the `meta` lines (who publishes it, for which plan).
    `footer` is printed on every page where a writer has pages (the issue or "working copy")."""

    kind: str  # steering | annual
    language: str
    title: str
    heading: str
    author: str  # the organisation
    subject: str  # the plan
    created: datetime  # the time, or the working copy's (aware)
    revision: int  # the number; 1 for a working copy
    footer: str
    meta: tuple[str, ...]
    blocks: tuple[Block, ...]

    def headings(self) -> list[tuple[int, str]]:
        """Every heading with its level (1 the document's, 2 a section's, 3 a subsection's), in order."""
        found = [(1, self.heading)]

        def walk(blocks: tuple[Block, ...], level: int) -> None:
            for block in blocks:
                if isinstance(block, Section):
                    found.append((level, block.heading))
                    walk(block.blocks, level + 1)

        walk(self.blocks, 2)
        return found
