"""One stack file through the per-file phases, including what it pulls in.

Read → interpolate → normalise, then ``include`` (other stack files whose resources
join this one; relative paths inside them resolve against their own directory) and
``extends`` (a service built on another service, from this file or another one).
Both detect cycles and report the chain.
"""

from __future__ import annotations

import os.path
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from composer.errors import SpecError
from composer.spec.interpolate import Interpolator
from composer.spec.merge import merge_files, merge_service
from composer.spec.normalize import FileNormalizer
from composer.spec.source import PathPart, PosDict, PosList, spec_error
from composer.spec.values import describe
from composer.spec.yamlfile import load_file

# What an included file brings: every resource definition (compose-go's importResources).
_SECTIONS = ("services", "networks", "volumes", "secrets", "configs", "models")


@dataclass
class FileLoader:
    interpolator: Interpolator
    home: str | None
    interpolate: bool = True  # False: variables stay as written (`config --no-interpolate`)
    merge_tags: bool = False  # some file read so far has !reset or !override
    warnings: list[str] = field(default_factory=list)
    _cache: dict[tuple[str, str], PosDict] = field(default_factory=dict)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every file read so far, absolute, in first-read order."""
        return tuple(dict.fromkeys(path for path, _ in self._cache))

    def load(self, path: Path, base_dir: str, chain: tuple[str, ...] = ()) -> PosDict:
        """The normalised tree of *path*, its includes and extends resolved."""
        key = (os.path.abspath(path), base_dir)
        if key[0] in chain:
            names = " -> ".join(os.path.basename(p) for p in (*chain, key[0]))
            raise SpecError(f"include cycle: {names}", where=str(path))
        if key in self._cache:
            return self._cache[key]
        tree = load_file(path, self.interpolator if self.interpolate else None)
        self.merge_tags = self.merge_tags or getattr(tree, "merge_tags", True)
        if tree is None:
            self.warnings.append(f"{path}: file is empty")
        normalizer = FileNormalizer(tree, base_dir, self.home, interpolated=self.interpolate)
        result = normalizer.normalize()
        self.warnings.extend(normalizer.warnings)
        if "include" in result:
            result = self._include(result, path, (*chain, key[0]))
        result = _Extends(self, result, path, (*chain, key[0])).resolve_all()
        self._cache[key] = result
        return result

    def _include(self, tree: PosDict, path: Path, chain: tuple[str, ...]) -> PosDict:
        entries = tree.pop("include")
        if not isinstance(entries, PosList):
            raise spec_error(tree, ("include",), f"expected a list, got {describe(entries)}")
        here = os.path.dirname(os.path.abspath(path))
        for index, entry in enumerate(entries):
            files, project_dir = _include_entry(tree, entry, ("include", index), here)
            if isinstance(entry, dict) and "env_file" in entry:
                self.warnings.append(f"include[{index}].env_file: not supported yet, ignored")
            base = project_dir or os.path.dirname(files[0])
            included = merge_files([self.load(Path(f), base, chain) for f in files])
            _add_resources(tree, included, ("include", index))
        return tree


def _include_entry(
    tree: PosDict, entry: Any, path: tuple[PathPart, ...], here: str
) -> tuple[list[str], str | None]:
    if isinstance(entry, str):
        return [os.path.join(here, entry)], None
    if not isinstance(entry, dict) or "path" not in entry:
        raise spec_error(tree, path, "expected a file path or a mapping with `path`")
    paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
    if not paths or not all(isinstance(p, str) for p in paths):
        raise spec_error(tree, (*path, "path"), "expected a file path or a list of them")
    project_dir = entry.get("project_directory")
    if project_dir is not None:
        project_dir = os.path.normpath(os.path.join(here, str(project_dir)))
    return [os.path.join(here, p) for p in paths], project_dir


def _add_resources(tree: PosDict, included: PosDict, path: tuple[PathPart, ...]) -> None:
    for section in _SECTIONS:
        theirs = included.get(section)
        if not theirs:
            continue
        ours = tree.setdefault(section, PosDict())
        for name, value in theirs.items():
            if name in ours:
                if ours[name] == value:
                    continue  # the same definition twice (two includes of one file, say), as compose-go
                raise spec_error(
                    tree,
                    (section, name),
                    f"conflicts with {section}.{name} from an included file",
                    key=True,
                )
            ours[name] = value
            ours.copy_positions(theirs, name)


class _Extends:
    """Resolves ``extends`` for every service of one file."""

    def __init__(self, loader: FileLoader, tree: PosDict, path: Path, chain: tuple[str, ...]):
        self.loader, self.tree, self.path, self.chain = loader, tree, path, chain
        services = tree.get("services")
        self.services: PosDict = services if isinstance(services, PosDict) else PosDict()
        self.done: set[str] = set()

    def resolve_all(self) -> PosDict:
        for name in list(self.services):
            self.resolve(name, ())
        return self.tree

    def resolve(self, name: str, active: tuple[str, ...]) -> Any:
        service = self.services[name]
        if name in self.done or not isinstance(service, PosDict) or "extends" not in service:
            return service
        if name in active:
            chain = " -> ".join((*active, name))
            raise spec_error(self.tree, ("services", name, "extends"), f"extends cycle: {chain}")
        spec = service["extends"]
        where = ("services", name, "extends")
        target, file = (
            (spec, None) if isinstance(spec, str) else _extends_mapping(self.tree, spec, where)
        )
        if file is None:
            if target not in self.services:
                raise spec_error(self.tree, where, f'extends: no service "{target}" in this file')
            base: Any = self.resolve(target, (*active, name))
        else:
            other_path = Path(os.path.join(os.path.dirname(os.path.abspath(self.path)), file))
            other = self.loader.load(other_path, os.path.dirname(str(other_path)), self.chain)
            base = (other.get("services") or {}).get(target)
            if base is None:
                raise spec_error(self.tree, where, f'extends: no service "{target}" in {file}')
        own = PosDict({k: v for k, v in service.items() if k != "extends"}, pos=service.pos)
        for key in own:
            own.copy_positions(service, key)
        merged = merge_service(base if isinstance(base, PosDict) else PosDict(), own, name)
        self.services[name] = merged
        self.done.add(name)
        return merged


def _extends_mapping(
    tree: PosDict, spec: Any, where: tuple[PathPart, ...]
) -> tuple[str, str | None]:
    if not isinstance(spec, dict) or not isinstance(spec.get("service"), str):
        raise spec_error(tree, where, "expected a service name or a mapping with `service`")
    file = spec.get("file")
    return spec["service"], str(file) if file is not None else None
