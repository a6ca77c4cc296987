#!/bin/sh
# Install everything pycompose and its tests need on a fresh Debian 12 machine (as root):
# Debian packages, the Python package with its test extra, and the local busybox image.
# Re-runnable.
set -eu
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
APT_PACKAGES="busybox-static iproute2 nftables procps libseccomp2"  # the benchmarks need more: bench/README.md
# tests/vm/run-cgroup2.sh: a cgroup v2 kernel under qemu, its initramfs made with cpio and kmod
APT_PACKAGES="$APT_PACKAGES qemu-system-x86 linux-image-amd64 cpio kmod"
APT_PACKAGES="$APT_PACKAGES tini"  # `init: true` runs its static binary (tini-static) as PID 1

missing=""
for pkg in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi

"$PYTHON" -m pip install -q --disable-pip-version-check -e '.[test]'
# Byte-compile our sources now, as a non-editable pip install would: this environment sets
# PYTHONDONTWRITEBYTECODE, so otherwise every command compiles ~60 modules (~100 ms).
"$PYTHON" -m compileall -q composer runtime network
# Under pyenv, new console scripts (pycompose, lint-imports) need their shims.
if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi

# The image the quickstart and examples use, made offline from busybox-static.
tar=$(mktemp --suffix=.tar)
trap 'rm -f "$tar"' EXIT
examples/busybox-rootfs.sh "$tar"
pycompose image import "$tar" busybox:latest >/dev/null
echo "setup done: $(pycompose --help >/dev/null && echo pycompose ready), image busybox:latest imported"
