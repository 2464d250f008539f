"""`planflow plan`: the plan as JSON or an Excel workbook, and an edited workbook read back."""

from __future__ import annotations

from pathlib import Path

import click

from ..services.outputs import excel
from ..services.plan import plans
from ..services.records.audit import OPERATOR_ACTOR
from .base import (
    PLAN_HELP,
    as_user,
    database,
    echo,
    error,
    language,
    print_json,
    reading,
    say,
    usage_error,
    write_file,
)


@click.group()
def plan() -> None:
    """The plan."""


@plan.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json", show_default=True)
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The file (needed for xlsx).")
def plan_export(fmt: str, plan_slug: str | None, out: Path | None) -> None:
    """Print the plan tree (JSON), or write it as an Excel workbook that `plan import` reads back."""
    if fmt == "xlsx":
        if out is None:
            raise usage_error("cli.plan.xlsx_needs_out")
        data = reading(lambda session: excel.export_xlsx(session, plan_slug, language()))
        write_file(out, data)
        echo("cli.plan.written", path=str(out))
        return
    tree = reading(lambda session: plans.export_plan(session, plan_slug))
    if tree is None:
        raise error("cli.plan.none_loaded")
    print_json(tree)


@plan.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--as", "username", help="Who imports (default: the local operator).")
def plan_import(file: Path, plan_slug: str | None, username: str | None) -> None:
    """Apply an edited Excel export: titles, owners, offices and dates. Every row is checked first;
    if any is wrong nothing changes and each error is listed with sheet, row and column."""
    with database() as db:
        workbook = excel.read_workbook(file.read_bytes(), file.name)  # before the write lock is taken
        with db.transaction() as session:
            actor = as_user(session, username) if username else OPERATOR_ACTOR
            result = excel.import_xlsx(session, actor, workbook, plan_slug)
    echo(
        "cli.plan.imported",
        file=file.name,
        rows=result.rows,
        count=len(result.changed),
        changed=", ".join(result.changed) or say("cli.plan.none_changed"),
    )
