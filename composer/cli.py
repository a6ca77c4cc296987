"""The `pycompose` command line (typer). Flags and output shapes follow `docker compose`.

This module holds the typer app, the global options and the error rendering; the
commands live in composer/commands/ and are registered here, in the order `--help`
lists them. With composer/commands/ (and composer/entry.py, which answers a no-op
`up -d` before typer is imported: composer/fastpath.py) it is the only place that reads
os.environ, the working directory or argv, or exits: everything below gets plain
arguments. A `PycomposeError` (or a runtime/network error) is printed as one line on
stderr with exit code 1; `--debug` adds the traceback.

No `from __future__ import annotations` here: typer reads every command's signature at
each start, and string annotations make it eval them all (~25 ms per command).
"""

import sys
from pathlib import Path
from typing import Annotated

import typer

from composer.commands import config, control, inspection, interaction, lifecycle
from composer.commands.context import G, stack_inputs
from composer.commands.image import image_app, images
from composer.commands.options import FileOpt, ProjectOpt
from composer.errors import PycomposeError

__all__ = ["G", "app", "main", "stack_inputs"]

app = typer.Typer(
    name="pycompose",
    help="Run multi-container stacks from a compose file, with containers built from Linux primitives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(image_app, name="image")

# In the order `--help` lists them. After the service, exec and run take everything as the command's.
_COMMANDS = (lifecycle.up, inspection.inspect, lifecycle.down, inspection.ps, inspection.logs, interaction.exec_,
             inspection.port, control.rm, inspection.top, interaction.run, lifecycle.start, lifecycle.stop,
             lifecycle.restart, control.pause, control.unpause, control.kill, inspection.stats, config.config, images)
for command in _COMMANDS:
    passthrough = command in (interaction.exec_, interaction.run)
    app.command(name=command.__name__.rstrip("_"),
                context_settings={"allow_interspersed_args": False} if passthrough else None)(command)


@app.callback()
def _main(
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    project_directory: Annotated[Path | None, typer.Option("--project-directory", help="Project directory.")] = None,
    profile: Annotated[list[str] | None, typer.Option("--profile", help="Enable a profile (repeatable).")] = None,
    env_file: Annotated[Path | None, typer.Option("--env-file", help="Variables for interpolation, instead of the project's .env.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    G.files = list(file or [])
    G.project_name = project_name
    G.project_directory = project_directory
    G.profiles = list(profile or [])
    G.env_file = env_file
    G.debug = debug


def main() -> None:
    """Console entry point: one line per error, a traceback only with --debug."""
    import click

    from network.errors import NetworkError
    from runtime.errors import ContainerError

    try:
        # Outside standalone mode click returns typer.Exit's code instead of raising it.
        code = app(standalone_mode=False)
    except (PycomposeError, ContainerError, NetworkError) as error:
        if G.debug:
            raise
        for line in str(error).splitlines():  # several independent problems: one line each
            print(f"error: {line}", file=sys.stderr)
        sys.exit(1)
    except click.exceptions.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
