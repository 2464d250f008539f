"""A form's words in each language: every Swedish title, description and choice label of a shipped
form has its English twin (a form without is refused when the forms are loaded), and form_words
picks the reader's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planflow import resources
from planflow.engine.forms import FormLibrary, form_words, untranslated

FORMS = sorted(resources.folder("workflows").joinpath("forms").glob("*.json"))
STATUS: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Rapportera",
    "x-title-en": "Report",
    "type": "object",
    "properties": {
        "status": {
            "type": "string",
            "title": "Status",
            "x-title-en": "Status",
            "enum": ["green", "red"],
            "x-enum-labels": {"green": "Grön", "red": "Röd"},
            "x-enum-labels-en": {"green": "Green", "red": "Red"},
            "description": "Grön: enligt plan.",
            "x-description-en": "Green: on plan.",
        },
        "comment": {"type": "string", "title": "Kommentar", "x-title-en": "Comment", "maxLength": 10},
    },
}


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    schema = json.loads(json.dumps(STATUS))
    *parents, last = path
    node = schema
    for key in parents:
        node = node[key]
    if isinstance(node[last], dict) and last == "x-enum-labels-en":
        node[last].pop("red")  # a choice without its English label
    else:
        del node[last]
    return schema


@pytest.mark.parametrize("path", FORMS, ids=lambda path: path.stem)
def test_every_swedish_word_of_a_shipped_form_has_its_english_twin(path: Path) -> None:
    assert untranslated(json.loads(path.read_text(encoding="utf-8")), path.stem) == []


@pytest.mark.parametrize(
    "missing",
    [
        ("x-title-en",),
        ("properties", "comment", "x-title-en"),
        ("properties", "status", "x-description-en"),
        ("properties", "status", "x-enum-labels-en"),
        ("properties", "status", "x-enum-labels"),
    ],
    ids=".".join,
)
def test_a_form_missing_an_english_twin_is_refused_when_loaded(
    tmp_path: Path, missing: tuple[str, ...]
) -> None:
    (tmp_path / "whole.json").write_text(json.dumps(STATUS), encoding="utf-8")
    assert "whole" in FormLibrary(tmp_path)
    (tmp_path / "broken.json").write_text(json.dumps(_without(missing)), encoding="utf-8")
    with pytest.raises(ValueError, match="words missing in a language"):
        FormLibrary(tmp_path)


def test_form_words_are_the_readers() -> None:
    english, swedish = form_words(STATUS, "en"), form_words(STATUS, "sv")
    assert english.title == "Report" and swedish.title == "Rapportera"
    assert english.fields["status"].choices == (("green", "Green"), ("red", "Red"))
    assert swedish.fields["status"].choices == (("green", "Grön"), ("red", "Röd"))
    assert english.fields["status"].help == "Green: on plan." and english.fields["comment"].help is None
    assert english.fields["comment"].label == "Comment" and swedish.fields["comment"].label == "Kommentar"
    assert (
        english.fields["status"].choice("red") == "Red" and english.fields["status"].choice("blue") == "blue"
    )
    assert form_words(STATUS, "fi") == form_words(STATUS, None) == swedish  # unknown: Swedish
