"""The network package's public names resolve on first use, without importing everything."""

from __future__ import annotations

import subprocess
import sys

import network


def test_every_public_name_resolves() -> None:
    for name in network.__all__:
        assert getattr(network, name) is not None, name


def test_importing_the_errors_does_not_import_the_manager() -> None:
    probe = "import sys, network.errors; print(sorted(m for m in sys.modules if m.startswith('network')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['network', 'network.errors']"


def test_no_submodule_shadows_an_exported_name() -> None:
    import pkgutil

    submodules = {m.name for m in pkgutil.iter_modules(network.__path__)}
    assert submodules.isdisjoint(network.__all__)
