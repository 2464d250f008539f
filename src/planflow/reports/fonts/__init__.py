"""DejaVu Sans, shipped with planflow: it carries Swedish letters and typographic dashes, which
the PDF core fonts do not. Free licence (Bitstream Vera, DejaVu changes public domain): LICENSE."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
REGULAR = FOLDER / "DejaVuSans.ttf"
BOLD = FOLDER / "DejaVuSans-Bold.ttf"
