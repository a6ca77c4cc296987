"""Per-file normalisation: bring one interpolated file into the shape merging needs.

List-or-map keys become maps (``environment``, ``labels``, ``sysctls``, ``depends_on``,
``networks``), volume entries become long-form mappings with absolute bind sources
(relative paths are resolved against the file's base directory *before* merging, so
an override file in another directory cannot change their meaning, as are build
contexts and the files of secrets and configs), and null entries become empty
mappings. Positions are carried over so errors still point
at the line the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from composer.models import parse_extra_host
from composer.spec.keys import expect_mapping
from composer.spec.ports import parse_port
from composer.spec.source import Override, PathPart, PosDict, PosList, Reset, key_path, spec_error
from composer.spec.values import InvalidValue, list_or_dict
from composer.spec.volumes import parse_volume, resolve_path

_LIST_OR_MAP = ("environment", "labels", "annotations", "sysctls")
# _SHORT_FORM: the long form of a short volume or port entry is a plain dict, not a PosDict.
# Its keys are the parser's, all supported (nothing for the key check to look at), and
# every part of it was written where the entry was: a position lookup that stops at the
# entry finds what a PosDict with the entry's position at each key would give. (A plain
# dict is also cheaper to make, and to validate: pydantic looks a missing field up in a
# dict subclass through the slow path.)
_NAME_LISTS = ("depends_on", "networks", "models")


@dataclass
class FileNormalizer:
    """Normalises the tree *root* of one file; relative paths resolve against *base_dir*."""

    root: Any
    base_dir: str
    home: str | None
    warnings: list[str] = field(default_factory=list)
    interpolated: bool = True  # False: a `${VAR}` may stand for any part of a short syntax

    def normalize(self) -> PosDict:
        top = expect_mapping(self.root, self.root, (), "a mapping of top-level keys")
        out = _copy(top)
        if "services" in top:
            services = expect_mapping(
                self.root,
                top["services"],
                ("services",),
                "a mapping of service names to definitions",
            )
            out["services"] = self._map_values(services, ("services",), self.service)
        for section in ("networks", "volumes", "secrets", "configs", "models"):
            if section in top:
                entries = expect_mapping(
                    self.root, top[section], (section,), f"a mapping of {section}"
                )
                out[section] = self._map_values(entries, (section,), self.definition)
        return out

    def _map_values(self, node: PosDict, path: tuple[PathPart, ...], fn: Any) -> PosDict:
        out = _copy(node, values=False)
        for key, value in node.items():
            out[key] = fn(value, (*path, key))
            out.copy_positions(node, key)
        return out

    def service(self, node: Any, path: tuple[PathPart, ...]) -> Any:
        if isinstance(node, Reset):
            return node
        if isinstance(node, Override):
            return Override(self.service(node.value, path))
        if node is None:
            return PosDict(pos=None)
        if not isinstance(node, PosDict):
            raise spec_error(self.root, path, f"expected a mapping, got {_kind(node)}")
        # `key: !override value` is normalised like `key: value`, then marked again. (Most
        # files have no !reset or !override: nothing to look for.)
        has_tags = getattr(self.root, "merge_tags", True)
        wrapped = [key for key, value in node.items() if isinstance(value, Override)] if has_tags else []
        if wrapped:
            node = _copy(node)
            for key in wrapped:
                node[key] = node[key].value
        out = self._service_keys(node, path)
        for key in wrapped:
            out[key] = Override(out[key])
        return out

    def _service_keys(self, node: PosDict, path: tuple[PathPart, ...]) -> PosDict:
        out = _copy(node)
        for key in _LIST_OR_MAP:
            if isinstance(node.get(key), PosList):
                out[key] = self._pairs(node[key], (*path, key))
        for key in _NAME_LISTS:
            if isinstance(node.get(key), PosList):
                out[key] = self._names(node[key], (*path, key), empty=key == "depends_on")
            elif key == "depends_on" and isinstance(node.get(key), PosDict) and None in node[key].values():
                out[key] = self._map_values(node[key], (*path, key), _empty_if_null)
        if isinstance(node.get("volumes"), PosList):
            out["volumes"] = self._volumes(node["volumes"], (*path, "volumes"))
        if isinstance(node.get("ports"), PosList):
            out["ports"] = self._ports(node["ports"], (*path, "ports"))
        if "build" in node:
            out["build"] = self._build(node["build"], (*path, "build"))
        self._name_resolution(node, out, path)
        return out

    def _name_resolution(self, node: PosDict, out: PosDict, path: tuple[PathPart, ...]) -> None:
        """``extra_hosts`` as a map (so override files merge it by host name); ``dns`` and
        ``dns_search`` as lists (so they append)."""
        if isinstance(node.get("extra_hosts"), PosList):
            out["extra_hosts"] = self._extra_hosts(node["extra_hosts"], (*path, "extra_hosts"))
        for key in ("dns", "dns_search"):
            if isinstance(node.get(key), str):
                out[key] = PosList([node[key]], pos=node.value_pos.get(key))
                out[key].item_pos = [node.value_pos.get(key)]

    def _extra_hosts(self, node: PosList, path: tuple[PathPart, ...]) -> PosDict | PosList:
        """The map form, so override files merge it by host name."""
        if not self.interpolated and any(isinstance(item, str) and "$" in item for item in node):
            return node  # its parts are known only once interpolated
        out = PosDict(pos=node.pos)
        for index, item in enumerate(node):
            host, address = parse_extra_host(item)
            if not host or not address:
                raise spec_error(self.root, (*path, index), f"invalid extra host {item!r}",
                                 'use "HOST:IP" or "HOST=IP"')
            out.setdefault(host, []).append(address)
            if node.item_pos[index] is not None:
                out.key_pos.setdefault(host, node.item_pos[index])  # type: ignore[arg-type]
                out.value_pos.setdefault(host, node.item_pos[index])  # type: ignore[arg-type]
        return out

    def _build(self, node: Any, path: tuple[PathPart, ...]) -> Any:
        """``build: dir`` → ``{context: dir}``; local contexts become absolute paths."""
        build = PosDict({"context": node}, pos=None) if isinstance(node, str) else node
        if not isinstance(build, PosDict):
            return node
        out = _copy(build)
        for key in ("args", "labels"):
            if isinstance(build.get(key), PosList):
                out[key] = self._pairs(build[key], (*path, key))
        if isinstance(build.get("context"), str):
            out["context"] = self._local_path(build["context"])
        if isinstance(build.get("additional_contexts"), dict):
            contexts = _copy(build["additional_contexts"])
            for key, value in contexts.items():
                contexts[key] = self._local_path(value) if isinstance(value, str) else value
            out["additional_contexts"] = contexts
        return out

    def _local_path(self, value: str) -> str:
        """*value* resolved against the base directory, unless it is a URL or a reference."""
        if "://" in value or value.startswith(("git@", "github.com/", "service:", "docker-image:")):
            return value
        return resolve_path(value, self.base_dir, self.home)

    def definition(self, node: Any, path: tuple[PathPart, ...]) -> Any:
        """A top-level network or volume; null means all defaults."""
        if isinstance(node, Override):
            return Override(self.definition(node.value, path))
        if node is None:
            return PosDict(pos=None)
        if isinstance(node, PosDict) and isinstance(node.get("external"), PosDict):
            legacy = node["external"]  # `external: {name: x}`, deprecated
            out = _copy(node)
            out["external"] = True
            if "name" in legacy and "name" not in node:
                out["name"] = legacy["name"]
                out.key_pos["name"] = legacy.key_pos["name"]
                out.value_pos["name"] = legacy.value_pos["name"]
                self.warnings.append(f"{key_path(path)}.external.name: deprecated, use `name`")
            return self._resolve_file(out)
        return self._resolve_file(node)

    def _resolve_file(self, node: Any) -> Any:
        """The ``file`` of a secret or config, resolved against the base directory."""
        if not isinstance(node, PosDict) or not isinstance(node.get("file"), str):
            return node
        out = _copy(node)
        out["file"] = resolve_path(node["file"], self.base_dir, self.home)
        return out

    def _pairs(self, node: PosList, path: tuple[PathPart, ...]) -> PosDict:
        """``[K=V, K]`` as a mapping (`list_or_dict`); a key is where its last entry was written."""
        try:
            out = PosDict.at(node.pos)
            out.update(list_or_dict(node))
        except InvalidValue as exc:
            raise spec_error(self.root, path, exc.message, exc.hint) from None
        for item, pos in zip(node, node.item_pos, strict=False):
            if pos is not None:
                key = item.partition("=")[0]
                out.key_pos[key] = out.value_pos[key] = pos
        return out

    def _names(self, node: PosList, path: tuple[PathPart, ...], *, empty: bool) -> PosDict:
        out = PosDict(pos=node.pos)
        for index, item in enumerate(node):
            if not isinstance(item, str):
                raise spec_error(self.root, (*path, index), f"expected a name, got {_kind(item)}")
            # As Compose normalises `depends_on: [db]`: started, required.
            out[item] = _started(node.item_pos[index]) if empty else None
            if node.item_pos[index] is not None:
                out.key_pos[item] = out.value_pos[item] = node.item_pos[index]  # type: ignore[assignment]
        return out

    def _volumes(self, node: PosList, path: tuple[PathPart, ...]) -> PosList:
        out = PosList(pos=node.pos)
        out.item_pos = list(node.item_pos)
        for index, item in enumerate(node):
            if not self.interpolated and isinstance(item, str) and "$" in item:
                out.append(item)  # its parts are known only once interpolated
                continue
            try:
                mapping, ignored = parse_volume(item, self.base_dir, self.home)
            except InvalidValue as exc:
                raise spec_error(self.root, (*path, index), exc.message, exc.hint) from None
            if isinstance(item, str) and item.startswith("~") and self.home is None:
                raise spec_error(self.root, (*path, index), f'cannot expand "~" in "{item}": HOME is not set')
            for option in ignored:
                self.warnings.append(f'{key_path((*path, index))}: option "{option}" does not apply '
                                     f'to a {mapping["type"]} mount, ignored')
            if isinstance(item, PosDict):
                mount = PosDict(mapping, pos=item.pos or node.item_pos[index])
                for key in mount:
                    mount.copy_positions(item, key)
                out.append(mount)
            else:
                out.append(mapping)  # from the short syntax: see _SHORT_FORM
        return out

    def _ports(self, node: PosList, path: tuple[PathPart, ...]) -> PosList:
        """Short entries in the long form, as compose-go's canonical form, so that files
        merge them by key (a range gives one mapping per port, each at the entry's place)."""
        if all(isinstance(item, PosDict) for item in node):
            return node
        out = PosList(pos=node.pos)
        for index, item in enumerate(node):
            pos = node.item_pos[index] if index < len(node.item_pos) else None
            if isinstance(item, PosDict) or (not self.interpolated and isinstance(item, str) and "$" in item):
                out.append(item)  # (a `${VAR}`: its parts are known only once interpolated)
                out.item_pos.append(pos)
                continue
            try:
                mappings = parse_port(item)
            except InvalidValue as exc:
                raise spec_error(self.root, (*path, index), exc.message, exc.hint) from None
            for mapping in mappings:
                out.append(mapping)  # see _SHORT_FORM
                out.item_pos.append(pos)
        return out


def _copy(node: PosDict, values: bool = True) -> PosDict:
    out = PosDict.at(node.pos)
    if values:
        out.update(node)
    out.key_pos, out.value_pos = dict(node.key_pos), dict(node.value_pos)
    return out


def _started(pos: Any) -> PosDict:
    return PosDict({"condition": "service_started", "required": True}, pos=pos)


def _empty_if_null(value: Any, path: tuple[PathPart, ...]) -> Any:
    return _started(None) if value is None else value


def _kind(value: object) -> str:
    from composer.spec.values import describe

    return describe(value)
