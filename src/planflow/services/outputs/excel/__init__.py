"""The plan in and out of Excel.

Export (XlsxWriter): a summary sheet, then one sheet per focus area with one row per activity; the
status cell is filled with its colour and says the status in words. The file is deterministic (fixed
document dates, fixed zip times), so export → import → export gives the same bytes.

Import (openpyxl, read-only): the same layout. The file is read first (read_workbook: its unpacked
size, sheets, rows and columns bounded before it is parsed, no database), then applied in a
transaction (import_xlsx takes the read workbook, so no front end can parse under the write lock).
What a sheet may change is an activity's title, owner (a username), office and dates, typed: a
formula cell is an error, never taken by its cached value; the status comes only through the
reporting chain (a changed status is an error, not ignored), new activities only through proposals,
and the other columns are derived.
An edited row follows the same rule as the page that edits one activity (activity_edits.update_activity).
Every row is checked first; if any is wrong nothing changes and each error names sheet, row and column.
"""

from .export import export_xlsx
from .reading import (
    MAX_BYTES,
    MAX_ROWS,
    CellProblem,
    ImportRefused,
    ImportResult,
    Workbook,
    import_xlsx,
    read_workbook,
)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "CellProblem",
    "ImportRefused",
    "ImportResult",
    "Workbook",
    "export_xlsx",
    "import_xlsx",
    "read_workbook",
]
