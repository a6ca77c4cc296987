"""`resolve_path` joins a relative path to its base directory exactly as
``posixpath.normpath(posixpath.join(base, path))`` does, whatever its fast path skips."""

from __future__ import annotations

import itertools
import posixpath

from composer.spec.volumes import resolve_path

BASES = ["/p", "/p/q", "/p/../q", "/p/./q", "/p//q", "/p/.", "/p/..", "//p", "/p/.q", "/p/q.", "/", "p", ".", "./p", ""]
PATHS = ["./x", "./x/y", "./x/", "./.", "./..", "./x/..", "./x/./y", "./x//y", "./.x", "./x.", "x", "../x", "./"]


def test_relative_paths_resolve_as_normpath_of_join() -> None:
    for base, path in itertools.product(BASES, PATHS):
        assert resolve_path(path, base, None) == posixpath.normpath(posixpath.join(base, path)), (base, path)
