"""Build hook: compile the message catalogs (.po → .mo) into the package, for wheels and editable
installs alike. The .mo files are build products: git ignores them, the wheel carries them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CATALOGS = Path(__file__).resolve().parent / "src" / "planflow" / "translations"


def compile_catalogs(folder: Path = CATALOGS) -> list[Path]:
    """Write a .mo beside every .po under `folder`; returns the .mo files."""
    written = []
    for po in sorted(folder.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        mo = po.with_suffix(".mo")
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written.append(mo)
    return written


class CatalogBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        compile_catalogs()
