"""The ``chimera`` command line: tools around the pipeline that a person runs by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chimera.tables import TABLES
from chimera.validate import check_match_dir

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.callback()
def main() -> None:
    """Chimera: teach vision-language models to read and play Counter-Strike 2."""


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="data/parsed, or one match directory")] = Path("data/parsed"),
) -> None:
    """Check parsed match tables against the game's invariants; exit 1 when any is broken."""
    if not path.is_dir():
        typer.echo(f"error: {path}: no such directory", err=True)
        raise typer.Exit(2)
    single = any((path / f"{t}.parquet").exists() for t in TABLES)
    matches = [path] if single else sorted(d for d in path.iterdir() if d.is_dir())
    if not matches:
        typer.echo(f"error: {path}: no match directories to validate", err=True)
        raise typer.Exit(2)
    broken = 0
    for match in matches:
        violations = check_match_dir(match)
        broken += bool(violations)
        typer.echo(f"{'FAIL' if violations else 'ok  '} {match}")
        for v in violations:
            typer.echo(f"     {v}")
    typer.echo(f"{len(matches) - broken} of {len(matches)} matches valid")
    raise typer.Exit(1 if broken else 0)
