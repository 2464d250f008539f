"""Reading generated documents with their own readers, and keeping rendered pages for a person."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdfium2
from pypdf import PdfReader

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pdf_text(data: bytes) -> str:
    """The PDF's text with line breaks and runs of space as single spaces (lines wrap anywhere),
    and a word hyphenated at the end of a line whole again."""
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(HYPHENATED.sub("", text).split())


# a line that ends in a hyphen inside a word: the writer broke the word there (it breaks at no hyphen
# the text itself has)
HYPHENATED = re.compile(r"(?<=\w)-\n(?=\w)")


def save_pages(data: bytes, name: str) -> list[Path]:
    """Each page of a PDF as a PNG in tests/artifacts/ (git-ignored), to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    document = pypdfium2.PdfDocument(data)
    paths = []
    try:
        for index in range(len(document)):
            path = ARTIFACTS / f"{name}-page{index + 1}.png"
            document[index].render(scale=1.5).to_pil().save(path)
            paths.append(path)
    finally:
        document.close()
    print(f"rendered pages: {', '.join(str(p) for p in paths)}")
    return paths
