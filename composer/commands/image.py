"""`images` and the `image` group: import (with `-c`, as `docker import`), load (a `docker
save` or OCI layout archive, as `docker load`), ls, rm."""

import shutil
import sys
import tempfile
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
    change: Annotated[list[str] | None, typer.Option(
        "--change", "-c", help="Apply a Dockerfile instruction to the image: CMD, ENTRYPOINT, ENV, EXPOSE, "
        "USER, WORKDIR or HEALTHCHECK (repeatable).")] = None,
) -> None:
    """Make a one-layer image from a root filesystem tarball (like `docker import`)."""
    from composer.imagechanges import apply_changes
    from runtime.images import ImageConfig

    config = apply_changes(ImageConfig(), list(change or []))
    if not tarball.is_file():
        raise PycomposeError(f"{tarball}: no such file")
    image = engine().images.import_tar(tarball, reference, config)
    print(image.id)


@image_app.command(name="load")
def image_load(
    input_: Annotated[Path | None, typer.Option(
        "--input", "-i", help="Read from a tar archive file (docker save or OCI layout), instead of STDIN.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Suppress the load output.")] = False,
) -> None:
    """Load images from a `docker save` archive or an OCI image layout tar (like `docker load`)."""
    store = engine().images
    if input_ is not None:
        images = store.load_archive(input_)
    elif sys.stdin.isatty():
        raise PycomposeError("requested load from stdin, but stdin is empty; give the archive with -i")
    else:
        with tempfile.NamedTemporaryFile(prefix="pycompose-load-", suffix=".tar") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
            spool.flush()
            images = store.load_archive(Path(spool.name))
    if quiet:
        return
    for image, names in images:
        for name in names:
            print(f"Loaded image: {name}")
        if not names:
            print(f"Loaded image ID: {image.id}")


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
