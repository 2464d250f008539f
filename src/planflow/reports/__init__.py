"""The writers of the reports: a document (planflow.documents.model) as PDF, Word or HTML. They
take a document composed in the reader's language and only lay it out; they never query and
never word, so what is written is exactly what was read (and, once issued, frozen).

Imports planflow.documents, planflow.i18n and planflow.clock, never the services or the models:
the services are handed `render` when they issue (services.issued.issue_report)."""

from __future__ import annotations

from ..documents.compose import compose
from ..documents.content import Content, Issue
from ..documents.files import FORMATS


def render(content: Content, fmt: str, language: str, issue: Issue | None = None) -> bytes:
    """The content as a document in `fmt` (one of FORMATS[content.kind]), worded in `language`."""
    if fmt not in FORMATS[content.kind]:
        raise ValueError(f"{content.kind} does not come as {fmt}")
    document = compose(content, language, issue)
    if fmt == "html":
        from . import html

        return html.write(document)
    if fmt == "pdf":
        from . import pdf

        return pdf.write(document)
    from . import docx

    return docx.write(document)
