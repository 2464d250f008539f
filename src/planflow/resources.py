"""The one resolver for the top-level folders that ship with planflow.

In a built wheel, `workflows/`, `templates/` and `scheduler/` live inside the package as
`planflow/_shipped/<name>` (hatchling's force-include puts them there). In an editable checkout
they stay at the repository's top level, two levels above this file's folder.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SHIPPED = ("workflows", "templates", "scheduler")
_PACKAGE = Path(__file__).resolve().parent


@cache
def folder(name: str) -> Path:
    """Return the directory of a shipped top-level folder, wheel or checkout alike."""
    if name not in SHIPPED:
        raise ValueError(f"not a shipped folder: {name!r}")
    for candidate in (_PACKAGE / "_shipped" / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"planflow is installed without its {name}/ folder")


def checkout() -> Path | None:
    """The top of the source checkout planflow runs from (an editable install), else None."""
    root = _PACKAGE.parent.parent
    if _PACKAGE.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def data_file(name: str) -> Path:
    """Return a data file that ships inside the package (planflow/data/)."""
    return _PACKAGE / "data" / name
