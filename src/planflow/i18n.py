"""Words in the reader's language: records and errors hold a key and parameters; the words are
chosen here, when a page, the API, the CLI or a mail shows them.

The catalogs are gettext catalogs whose message ids are the keys (`error.cycle.period_format`,
`task.report_status`, `status.red`), one per language in `planflow/translations/`: the `.po` files
are the source, the `.mo` files are compiled from them when the package is built (hatch_build.py)
and are what is read here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import read_mo
from babel.support import Translations
from markupsafe import Markup, escape

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
# The plans planflow holds are written in Swedish and nothing translates them: what a plan says (its
# title, areas and activities) is shown whole, in Swedish, to every reader, marked as Swedish where
# the reader's language is another (web.site.sv, documents.model.Quoted).
PLAN_LANGUAGE = "sv"
DOMAIN = "messages"
CATALOGS = Path(__file__).resolve().parent / "translations"


@dataclass(frozen=True)
class Message:
    """Something to say: a catalog key and its parameters. A parameter may itself be a Message
    (or a {"key": …, "params": …} mapping, as stored in JSON), worded in the same language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str | None = None) -> str:
        return text(language, self.key, self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "params": dict(self.params)}


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> Translations:
    path = CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.exists():
        raise RuntimeError(f"the {language} catalog is not compiled ({path}): reinstall planflow")
    with path.open("rb") as handle:
        return Translations(handle, domain=DOMAIN)


# Marks words quoted in another language (the plan's Swedish) on a page: (words, their language)
# -> markup. Mail and plain text have none: the quoted words stand as they are.
Mark = Callable[[str, str], Markup]


def quoted(words: str, language: str = PLAN_LANGUAGE) -> dict[str, str]:
    """A stored parameter that quotes words in their own language (an activity's Swedish title):
    said as it is in every language, and marked with its language where a page can mark it."""
    return {"quote": language, "text": words}


def text(
    language: str | None, key: str, params: Mapping[str, Any] | None = None, mark: Mark | None = None
) -> str:
    """The words for `key` in `language` (Swedish when unknown), with its parameters filled in.
    An unknown key comes back as itself, so a missing entry shows instead of failing a page. With
    `mark`, quoted parameters come back marked and the whole is markup (the rest escaped)."""
    language = language_or_default(language)
    template = translations(language).gettext(key)
    if not params:
        return template
    values = {name: word(language, value, mark) for name, value in params.items()}
    if any(isinstance(value, Markup) for value in values.values()):
        template = Markup(escape(template))
    try:
        return template % values
    except (KeyError, ValueError, TypeError):
        return f"{template} {values}"


def known(key: str) -> bool:
    """Whether the catalogs have words for `key` (the Swedish one is complete: a test checks)."""
    return translations(DEFAULT_LANGUAGE).gettext(key) != key


@cache
def keys(prefix: str) -> tuple[str, ...]:
    """The catalogs' keys that begin with `prefix`, sorted: what there is words for, such as every
    audit action (`audit.action.`)."""
    path = CATALOGS / DEFAULT_LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as handle:
        catalog = read_mo(handle)
    return tuple(sorted(str(m.id) for m in catalog if isinstance(m.id, str) and m.id.startswith(prefix)))


def word(language: str, value: Any, mark: Mark | None = None) -> Any:
    """A parameter as said in `language`: a Message (or a stored {"key": …} mapping) worded, quoted
    words as they are (marked, with `mark`), a list joined, anything else as it is."""
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, Mapping) and isinstance(value.get("quote"), str):
        words = str(value.get("text", ""))
        return mark(words, value["quote"]) if mark is not None else words
    if isinstance(value, Mapping) and isinstance(value.get("key"), str):
        return text(language, value["key"], value.get("params"), mark)
    if isinstance(value, list | tuple):
        return ", ".join(str(word(language, item)) for item in value)
    return value
