"""A PDF's logical structure (its tags), built while fpdf2 draws the pages, so that a screen reader
reads headings, paragraphs, lists, tables with their header cells and figures with their
alternative text, and the file meets PDF/A-2a. Every mark on a page is either content of a
structure element (a marked-content sequence with an MCID, listed in the parent tree) or an
artifact (running heads and feet, rules, cell borders, repeated header rows).

fpdf2 tags only images and outline titles, each directly under the document; nested elements
(a table's rows and cells, a list's items) are built here on its structure-tree objects, which
are internal to fpdf2 (hence the pin to one minor release in pyproject.toml): `Structure` takes
the place of fpdf2's builder, and fpdf2 writes out whatever it yields."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fpdf import FPDF
from fpdf.structure_tree import NumberTree, StructTreeRoot
from fpdf.syntax import PDFArray, PDFObject, PDFString


class _ContentRef:
    """A marked-content reference: the MCID of a sequence on a page. Written out with the page's
    object number, which fpdf2 assigns only when it writes the file."""

    def __init__(self, page: PDFObject, mcid: int) -> None:
        self.page, self.mcid = page, mcid

    def serialize(self, **_: Any) -> str:
        return f"<</Type /MCR /Pg {self.page.ref} /MCID {self.mcid}>>"


class Element(PDFObject):
    """A structure element: its role (a standard structure type), its parent, and its kids in
    reading order, elements and marked-content references."""

    # fpdf2 writes every public attribute of a PDFObject as a key of its dictionary
    __slots__ = ("_id", "type", "s", "p", "k", "alt", "a", "pg", "_first_page")

    def __init__(self, role: str, parent: PDFObject, alt: str | None = None, attributes: str | None = None):
        super().__init__()
        self.type = "/StructElem"
        self.s = f"/{role}"
        self.p = parent
        self.k = PDFArray()
        self.alt = PDFString(alt) if alt else None
        self.a = attributes
        self.pg = None  # fpdf2 sets it for the document's children, from page_number()
        self._first_page: int | None = None

    def page_number(self) -> int:
        return self._first_page or 1


class Structure:
    """The structure tree of one FPDF, replacing its own builder (`pdf.struct_builder`). The
    writer opens elements (`element`), marks what it draws as their content (`content`) or as
    an artifact (`artifact`); the page furniture pauses and resumes content across page breaks."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.struct_tree_root = StructTreeRoot()
        self.parent_tree: NumberTree = self.struct_tree_root.parent_tree
        self.doc_struct_elem = Element("Document", self.struct_tree_root)
        self.struct_tree_root.k.append(self.doc_struct_elem)
        self.elements: list[Element] = []
        self._open = [self.doc_struct_elem]
        self._marking: Element | None = None  # whose content is being drawn
        self._paused: Element | None = None  # the same, across a page break
        self._parents_keys: dict[int, int] = {}  # page → its key in the parent tree
        pdf.struct_builder = self  # type: ignore[assignment]

    def add(self, role: str, alt: str | None = None, attributes: str | None = None) -> Element:
        """A structure element under the one open, the last of its kids."""
        parent = self._open[-1]
        added = Element(role, parent, alt, attributes)
        parent.k.append(added)
        self.elements.append(added)
        return added

    @contextmanager
    def element(self, role: str, alt: str | None = None, attributes: str | None = None) -> Iterator[Element]:
        """A structure element under the one open, open while the block runs."""
        self._open.append(self.add(role, alt, attributes))
        try:
            yield self._open[-1]
        finally:
            self._open.pop()

    @contextmanager
    def content(self, owner: Element | None = None) -> Iterator[None]:
        """What is drawn in the block is content of `owner` (the open element unless given), on as
        many pages as it takes; an element may have content in several places (a table cell
        continued on the next page)."""
        assert self._marking is None, "marked content does not nest"
        self._begin(owner or self._open[-1])
        yield
        self._end()

    @contextmanager
    def artifact(self) -> Iterator[None]:
        """What is drawn in the block is not content: page furniture, rules, borders."""
        self.pdf._out("/Artifact BMC")
        yield
        self.pdf._out("EMC")

    def pause(self) -> None:
        """Before a page's foot: end the content being drawn, to go on after the next page's head."""
        if self._marking is not None:
            self._paused = self._marking
            self._end()

    def resume(self) -> None:
        """After a page's head: go on with the content paused at the last page's foot."""
        if self._paused is not None:
            self._begin(self._paused)
            self._paused = None

    def _begin(self, owner: Element) -> None:
        page = self.pdf.page
        key = self._parents_keys.setdefault(page, len(self._parents_keys))
        self.pdf.pages[page].struct_parents = key
        owners = self.parent_tree.nums[key]
        mcid = len(owners)
        owners.append(owner)
        owner.k.append(_ContentRef(self.pdf.pages[page], mcid))
        if owner._first_page is None:
            owner._first_page = page
        self.pdf._out(f"{owner.s} <</MCID {mcid}>> BDC")
        self._marking = owner

    def _end(self) -> None:
        self.pdf._out("EMC")
        self._marking = None

    # What fpdf2's writer asks of its builder.

    def empty(self) -> bool:
        return not self.elements

    def __iter__(self) -> Iterator[PDFObject]:
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.parent_tree
        yield from self.elements
