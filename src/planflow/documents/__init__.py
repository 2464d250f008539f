"""The reports as documents, below both the services that gather them and the writers that lay
them out: `content` (what a report says, as data), `model` (a format-neutral document: headings,
paragraphs, tables, charts, status values), `compose` (content → document, worded once in the
reader's language) and `files` (formats, media types, file names).

Imports only the standard library, planflow.i18n and planflow.clock: planflow.services builds
content from the database, planflow.reports writes documents as HTML, PDF and Word."""
