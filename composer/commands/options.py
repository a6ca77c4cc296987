"""Option and argument types shared by several commands (flags as in `docker compose`)."""

from pathlib import Path
from typing import Annotated

import typer

FileOpt = Annotated[list[Path] | None, typer.Option("--file", "-f", help="Stack file(s); later ones override.")]
# `logs -f` is --follow, as in docker compose: there the stack file is --file (or a global -f).
FileLongOpt = Annotated[list[Path] | None, typer.Option("--file", help="Stack file(s); later ones override.")]
ProjectOpt = Annotated[str | None, typer.Option("--project-name", "-p", help="Project name.")]
ServicesArg = Annotated[list[str] | None, typer.Argument(help="Services (default: all).", show_default=False)]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", "-t", help="Seconds to wait before SIGKILL (default: the service's stop_grace_period, else 10).")]
QuietIdsOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only IDs.")]
