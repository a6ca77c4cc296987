"""`config`: the stack validated, resolved and normalised (or one listing of it)."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from composer.commands.context import engine, load_validated, stack_inputs
from composer.commands.options import FileOpt, ProjectOpt
from composer.errors import PycomposeError

if TYPE_CHECKING:
    from composer.inputs import StackInputs
    from composer.models import Project


def config(
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    format_: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    services: Annotated[bool, typer.Option("--services", help="Print the service names.")] = False,
    volumes: Annotated[bool, typer.Option("--volumes", help="Print the volume names.")] = False,
    networks: Annotated[bool, typer.Option("--networks", help="Print the network names.")] = False,
    profiles: Annotated[bool, typer.Option("--profiles", help="Print the profile names.")] = False,
    images: Annotated[bool, typer.Option("--images", help="Print the image names.")] = False,
    hash_: Annotated[str | None, typer.Option("--hash", help='Print "service hash" for these services (comma-separated, or "*").')] = None,
    no_interpolate: Annotated[bool, typer.Option("--no-interpolate", help="Keep ${VAR} as written.")] = False,
    no_consistency: Annotated[bool, typer.Option("--no-consistency", help="Skip the cross-reference checks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only validate.")] = False,
) -> None:
    """Validate the stack and print it resolved and normalised."""
    from composer import configview

    configview.check_format(format_)
    listing = next((k for k, on in (("services", services), ("volumes", volumes), ("networks", networks),
                                    ("profiles", profiles), ("images", images)) if on), None)
    if hash_ is not None and no_interpolate:
        raise PycomposeError("--hash needs the interpolated stack: drop --no-interpolate")
    inputs = stack_inputs(file, project_name)
    assert inputs is not None
    if listing == "profiles":  # every profile of the file, not only the active ones
        inputs = inputs._replace(profiles=("*",))
    if no_interpolate:
        document = _raw_config(inputs)
    else:
        project = load_validated(inputs, inputs.env, consistency=not no_consistency)
        if hash_ is not None:
            chosen = configview.hash_selection(project, hash_)
            print("\n".join(configview.hash_lines(project, chosen, _image_ids(project, chosen))))
            return
        from composer.spec import project_to_dict

        document = project_to_dict(project)
    if quiet:
        return
    if listing is not None:
        names = configview.LISTINGS[listing](document)
        if names:
            print("\n".join(names))
        return
    print(configview.render(document, format_), end="")


def _raw_config(inputs: "StackInputs") -> dict[str, object]:
    from composer.spec import load_tree

    document, warnings = load_tree(
        [Path(f) for f in inputs.files], env=inputs.env, project_name=inputs.project_name,
        workdir=Path(inputs.workdir) if inputs.workdir else None, profiles=inputs.profiles,
        env_file=Path(inputs.env_file) if inputs.env_file else None,
    )
    for warning in warnings:
        print(f"WARN: {warning}", file=sys.stderr)
    return document


def _image_ids(project: "Project", services: list[str]) -> dict[str, str]:
    """The id of each service's image in the store, for the config hash (absent: not there)."""
    store = engine().images
    found = {name: store.find(ref) if (ref := project.services[name].image) else None for name in services}
    for name, image in found.items():
        if image is None:
            print(f'WARN: service "{name}": image not in the image store; its hash is computed without '
                  "the image id and will differ from the one of a running container", file=sys.stderr)
    return {name: image.id for name, image in found.items() if image is not None}
