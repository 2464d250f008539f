"""Every literal UI key the templates and pages say is in both catalogs (the code's keys are
checked by tests/test_i18n.py)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_i18n import _catalog

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"""\bt\(\s*['"](ui\.[a-z0-9_.]+[a-z0-9_])['"]""")


def test_ui_keys_are_in_both_catalogs() -> None:
    sources = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "src" / "planflow" / "web").glob("*.py")]
    keys = {key for path in sources for key in KEY.findall(path.read_text(encoding="utf-8"))}
    keys |= set(re.findall(r'"(ui\.nav\.[a-z_]+)"', (ROOT / "src/planflow/web/site.py").read_text()))
    assert len(keys) > 150
    for language in ("sv", "en"):
        assert keys - _catalog(language).keys() == set(), language
