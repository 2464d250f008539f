"""An independent check of the PDFs planflow writes, read with pikepdf (qpdf), pypdf and Pillow's
LittleCMS, none of which wrote them. veraPDF cannot be installed here (it comes from Maven Central,
which this machine does not reach; no PyPI, npm or Debian package ships it), so each PDF/A-2 and
tagging requirement is checked on its own, by what ISO 19005-2 and ISO 32000 say."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pikepdf
from PIL import ImageCms
from pypdf import PdfReader

from planflow import i18n
from planflow.documents.model import (
    Block,
    BulletList,
    Document,
    Paragraph,
    Section,
    Stamp,
    Status,
    Table,
    Text,
)

# ISO 32000-1, 14.8.4: the standard structure types (a PDF/A-2a file may use only these, or map its own)
STANDARD_TYPES = {
    *"Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private".split(),
    *"P H H1 H2 H3 H4 H5 H6 L LI Lbl LBody Table TR TH TD THead TBody TFoot".split(),
    *"Span Quote Note Reference BibEntry Code Link Annot Ruby RB RT RP Warichu WT WP".split(),
    *"Figure Formula Form".split(),
}
# operators that put marks on a page: showing text, painting a path, drawing an image or shading
MARKING = {"Tj", "TJ", "'", '"', "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "Do", "sh", "BI"}


def pdf_a_problems(data: bytes) -> list[str]:
    """What keeps the file from being PDF/A-2 (and from being read aloud): empty when nothing does."""
    problems: list[str] = []
    header = data.split(b"\n", 2)
    version = re.fullmatch(rb"%PDF-(\d\.\d)\r?", header[0])
    if not version or version.group(1) < b"1.7":
        problems.append(f"header {header[0]!r}: PDF 1.7 or later")
    if len([b for b in header[1] if b >= 128]) < 4:
        problems.append("no binary comment after the header (ISO 19005-2, 6.1.2)")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        problems += [f"qpdf: {p}" for p in pdf.check_pdf_syntax()]
        problems += _trailer(pdf) + _metadata(pdf) + _output_intent(pdf) + _fonts(pdf) + _actions(pdf)
        problems += _tagged(pdf)
    return problems


def _trailer(pdf: pikepdf.Pdf) -> list[str]:
    problems = []
    if "/Encrypt" in pdf.trailer:
        problems.append("encrypted")
    if "/ID" not in pdf.trailer:
        problems.append("no file identifier in the trailer")
    return problems


def _metadata(pdf: pikepdf.Pdf) -> list[str]:
    """XMP with the PDF/A identification, agreeing with the document information dictionary."""
    if "/Metadata" not in pdf.Root:
        return ["no XMP metadata stream"]
    problems = []
    if "/Filter" in pdf.Root.Metadata:
        problems.append("the metadata stream is filtered")
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
        if xmp.get("pdfaid:part") != "2" or xmp.get("pdfaid:conformance") not in ("A", "B", "U"):
            problems.append(f"XMP says PDF/A {xmp.get('pdfaid:part')}{xmp.get('pdfaid:conformance')}")
        info = pdf.docinfo
        said = {
            "/Title": xmp.get("dc:title"),
            "/Author": "; ".join(xmp.get("dc:creator") or []),
            "/Subject": xmp.get("dc:description"),
            "/Creator": xmp.get("xmp:CreatorTool"),
            "/Producer": xmp.get("pdf:Producer"),
        }
        if not said["/Title"]:
            problems.append("no dc:title")
        for key, value in said.items():
            if key in info and str(info[key]) != value:
                problems.append(f"Info {key} {str(info[key])!r} but XMP {value!r}")
        if "/CreationDate" in info:
            made = _pdf_date(str(info["/CreationDate"]))
            if made != datetime.fromisoformat(xmp.get("xmp:CreateDate") or "1970-01-01T00:00:00Z"):
                problems.append("Info /CreationDate and xmp:CreateDate differ")
    return problems


def _pdf_date(text: str) -> datetime:
    """D:YYYYMMDDHHmmSS+HH'mm' or ...Z, as a datetime."""
    match = re.fullmatch(r"D:(\d{14})(Z|[+-]\d\d'\d\d'?)?", text)
    assert match, text
    zone = (match.group(2) or "Z").replace("'", "")
    return datetime.strptime(match.group(1) + ("+0000" if zone == "Z" else zone), "%Y%m%d%H%M%S%z")


def _output_intent(pdf: pikepdf.Pdf) -> list[str]:
    """A GTS_PDFA1 output intent whose embedded ICC profile is sRGB, read by LittleCMS."""
    intents = [i for i in pdf.Root.get("/OutputIntents", []) if i.get("/S") == "/GTS_PDFA1"]
    if len(intents) != 1:
        return [f"{len(intents)} PDF/A output intents"]
    profile = intents[0].get("/DestOutputProfile")
    if profile is None:
        return ["the output intent has no ICC profile"]
    icc = ImageCms.ImageCmsProfile(io.BytesIO(profile.read_bytes()))
    description = ImageCms.getProfileDescription(icc)
    problems = []
    if icc.profile.xcolor_space.strip() != "RGB" or int(profile.get("/N", 0)) != 3:
        problems.append(f"the output intent's profile is {icc.profile.xcolor_space}, not RGB")
    if "sRGB" not in description:
        problems.append(f"the output intent's profile is {description!r}, not sRGB")
    return problems


def _fonts(pdf: pikepdf.Pdf) -> list[str]:
    """Every font embedded, with a map to Unicode (PDF/A-2u and -2a: text can be extracted)."""
    problems = []
    for page in pdf.pages:
        for name, font in page.resources.get("/Font", {}).items():
            descendant = font.DescendantFonts[0] if font.Subtype == "/Type0" else font
            descriptor = descendant.get("/FontDescriptor")
            files = (
                {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()) if descriptor else set()
            )
            if not files:
                problems.append(f"font {name} ({font.get('/BaseFont')}) is not embedded")
            if "/ToUnicode" not in font:
                problems.append(f"font {name} has no ToUnicode map")
    return problems


def _actions(pdf: pikepdf.Pdf) -> list[str]:
    """No JavaScript anywhere, and no actions a reader would run on opening or closing."""
    problems = []
    names = pdf.Root.get("/Names")
    if names is not None and "/JavaScript" in names:
        problems.append("a JavaScript name tree")
    if "/AA" in pdf.Root:
        problems.append("additional actions on the document")
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            keys = set(obj.keys())
            if "/JS" in keys or obj.get("/S") == "/JavaScript":
                problems.append(f"JavaScript in object {obj.objgen}")
    return problems


def _tagged(pdf: pikepdf.Pdf) -> list[str]:
    """Marked, with a language, a structure tree, the title shown, and every mark on a page either
    tagged content or an artifact."""
    problems = []
    if not bool(pdf.Root.get("/MarkInfo", {}).get("/Marked", False)):
        problems.append("not /MarkInfo /Marked true")
    if not str(pdf.Root.get("/Lang", "")):
        problems.append("no /Lang")
    if not bool(pdf.Root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        problems.append("not /DisplayDocTitle true")
    if "/StructTreeRoot" not in pdf.Root:
        return [*problems, "no structure tree"]
    tree = structure(pdf)
    problems += [f"non-standard structure type {role}" for role in tree.roles if role not in STANDARD_TYPES]
    for index, page in enumerate(pdf.pages, 1):
        parents = tree.parents.get(int(page.get("/StructParents", -1)), [])
        for mcid, untagged in _marked(page):
            if untagged:
                problems.append(f"page {index}: {untagged} outside any tag or artifact")
            elif mcid is not None and (
                mcid >= len(parents) or (page.objgen, mcid) not in tree.owned[parents[mcid]]
            ):
                problems.append(f"page {index}: MCID {mcid} not in the parent tree as its element's")
    return problems


def _marked(page: pikepdf.Page) -> Iterator[tuple[int | None, str | None]]:
    """Each marked-content sequence's MCID (None for an artifact), and each mark outside any."""
    stack: list[int | None] = []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op in ("BDC", "BMC"):
            tag = str(operands[0])
            properties = operands[1] if op == "BDC" else None
            mcid = (
                int(properties["/MCID"])
                if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties
                else None
            )
            if tag != "/Artifact" and mcid is None and not stack:
                yield None, f"a {tag} sequence without an MCID"
            stack.append(mcid)
            if mcid is not None:
                yield mcid, None
        elif op == "EMC":
            stack.pop()
        elif op in MARKING and not stack:
            yield None, op


@dataclass
class Tree:
    """A structure tree as read: each element's role in reading order, with its /Alt and its
    attributes; the parent tree (page key → element per MCID); the marked content each element owns."""

    roles: list[str] = field(default_factory=list)
    alts: list[str | None] = field(default_factory=list)
    scopes: list[str | None] = field(default_factory=list)
    parents: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    owned: dict[tuple[int, int], set[tuple[tuple[int, int], int]]] = field(default_factory=dict)

    def count(self) -> Counter[str]:
        return Counter(self.roles)


def structure(pdf: pikepdf.Pdf) -> Tree:
    tree = Tree()
    root = pdf.Root.StructTreeRoot

    def walk(element: pikepdf.Dictionary) -> None:
        tree.roles.append(str(element.S)[1:])
        tree.alts.append(str(element.Alt) if "/Alt" in element else None)
        attributes = element.get("/A")
        tree.scopes.append(
            str(attributes.Scope)[1:] if attributes is not None and "/Scope" in attributes else None
        )
        owned = tree.owned.setdefault(element.objgen, set())
        kids = element.get("/K", [])
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                owned.add((element.Pg.objgen, kid))
            elif kid.get("/Type") == "/MCR":
                owned.add((kid.Pg.objgen, int(kid.MCID)))
            elif "/S" in kid:
                walk(kid)

    kids = root.K
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        walk(kid)
    numbers = root.ParentTree.Nums
    for index in range(0, len(numbers), 2):
        tree.parents[int(numbers[index])] = [element.objgen for element in numbers[index + 1]]
    return tree


def read_structure(data: bytes) -> tuple[Tree, list[str]]:
    """The structure tree and the bookmarks' titles, in order."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        with pdf.open_outline() as outline:
            titles = [item.title for item in _outline(outline.root)]
        return structure(pdf), titles


def _outline(items: list[pikepdf.OutlineItem]) -> Iterator[pikepdf.OutlineItem]:
    for item in items:
        yield item
        yield from _outline(item.children)


def walk(blocks: tuple[Block, ...]) -> Iterator[Block]:
    for block in blocks:
        yield block
        if isinstance(block, Section):
            yield from walk(block.blocks)


def words(document: Document, pages: int) -> set[str]:
    """Every word the document says (space-separated), and the page furniture's."""
    texts = [document.title, document.author, document.footer, "•"]
    texts += [
        i18n.text(document.language, "report.page", {"page": n, "pages": pages}) for n in range(1, pages + 1)
    ]
    return {word for text in texts for word in text.split()} | body_words(document)


def body_words(document: Document) -> set[str]:
    """Every word of the document's body: what a reader of the tagged text must be given."""
    texts = [document.heading, *document.meta]
    for block in walk(document.blocks):
        if isinstance(block, Section):
            texts.append(block.heading)
        elif isinstance(block, Paragraph):
            texts.append(block.text)
        elif isinstance(block, BulletList):
            texts += block.items
        elif isinstance(block, Stamp):
            texts += block.lines
        elif isinstance(block, Table):
            texts += [c.heading for c in block.columns] + list(block.total or ())
            for cell in (c for row in block.rows for c in row):
                if isinstance(cell, Status):
                    texts.append(cell.words)
                elif isinstance(cell, Text):
                    texts += [cell.text, cell.aside or ""]
                else:
                    texts.append(cell)
    return {word for text in texts for word in text.split()}


class _MarkedText:
    """Text shown inside marked-content sequences with an MCID, gathered as pypdf reads a page."""

    def __init__(self) -> None:
        self.page = 0
        self.stack: list[int | None] = []
        self.pieces: dict[tuple[int, int], list[str]] = {}  # (page object, MCID) → text

    def operator(self, operator: bytes, operands: list[Any], *_: object) -> None:
        if operator == b"BDC":
            properties = operands[1]
            self.stack.append(properties.get("/MCID") if hasattr(properties, "get") else None)
        elif operator == b"BMC":
            self.stack.append(None)
        elif operator == b"EMC":
            self.stack.pop()

    def text(self, text: str, *_: object) -> None:
        mcid = self.stack[-1] if self.stack else None
        if mcid is not None:
            self.pieces.setdefault((self.page, int(mcid)), []).append(text)


def tagged_texts(data: bytes) -> list[tuple[str, str]]:
    """What a screen reader reads: each structure element that owns content, by role, with its
    text gathered from every page it is on (lines joined by "\\n"), in the tree's order. Artifacts
    (running heads and feet, repeated header rows) are not in it. Text by pypdf, tree by pikepdf."""
    reader = PdfReader(io.BytesIO(data))
    marked = _MarkedText()
    for page in reader.pages:
        assert page.indirect_reference is not None
        marked.page = page.indirect_reference.idnum
        page.extract_text(visitor_operand_before=marked.operator, visitor_text=marked.text)
    pieces = marked.pieces

    found: list[tuple[str, str]] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:

        def walk(element: pikepdf.Dictionary) -> None:
            own, kids = [], element.get("/K", [])
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                    own.append("".join(pieces.get((kid.Pg.objgen[0], int(kid.MCID)), [])).strip("\n"))
                elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid)
            if own:
                found.append((str(element.S)[1:], "\n".join(own)))

        walk(pdf.Root.StructTreeRoot.K[0])
    return found


def broken_words(data: bytes, document: Document) -> list[str]:
    """Words the tagged text holds that the document does not say: a word broken across lines
    without a hyphen shows as two pieces that are not words. A line that ends in a hyphen inside a
    word is taken with the next line's first word (the writer breaks at no hyphen the text itself
    has). Read per element, so a cell continued on the next page is read whole."""
    known = words(document, len(PdfReader(io.BytesIO(data)).pages))
    return [word for _, text in tagged_texts(data) for word in read(text).split() if word not in known]


def unread_words(data: bytes, document: Document) -> set[str]:
    """Words of the document's body that no tagged element gives a screen reader."""
    read_out = {word for _, text in tagged_texts(data) for word in read(text).split()}
    return body_words(document) - read_out


def read(text: str) -> str:
    """Text as read: words hyphenated at a line's end whole again, lines and spaces as one space."""
    return " ".join(re.sub(r"(?<=\w)-\n(?=\w)", "", text).split())
