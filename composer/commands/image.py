"""`images` and the `image` group: import, ls, rm."""

from pathlib import Path
from typing import Annotated

import typer

from composer.commands.context import engine
from composer.commands.options import QuietIdsOpt
from composer.errors import PycomposeError

image_app = typer.Typer(help="Manage images.", no_args_is_help=True)


def images(quiet: QuietIdsOpt = False) -> None:
    """List images in the store."""
    from composer.images import image_rows

    print(image_rows(engine().images.list(), quiet))


@image_app.command(name="import")
def image_import(
    tarball: Annotated[Path, typer.Argument(help="Root filesystem tarball (.tar, .tar.gz, .tar.xz).")],
    reference: Annotated[str, typer.Argument(help="NAME[:TAG]")],
) -> None:
    """Make a one-layer image from a root filesystem tarball (like `docker import`)."""
    if not tarball.is_file():
        raise PycomposeError(f"{tarball}: no such file")
    image = engine().images.import_tar(tarball, reference)
    print(image.id)


@image_app.command(name="ls")
def image_ls(quiet: QuietIdsOpt = False) -> None:
    """List images in the store."""
    images(quiet)


@image_app.command(name="rm")
def image_rm(references: Annotated[list[str], typer.Argument(help="Images to remove.")]) -> None:
    """Remove images (layers no longer used are deleted)."""
    store = engine().images
    for reference in references:
        store.remove(reference)
        print(f"Untagged: {reference}")
