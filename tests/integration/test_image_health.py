"""An image's config reaches its containers: a healthcheck carried by a `docker save` archive
(or given with `image import --change`) runs for a service that declares none, and
`healthcheck: {disable: true}` turns it off."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.integration.stackkit import Stack
from tests.integration.test_health import wait_for_health
from tests.integration.test_stack import SLEEPER

NS = 1_000_000_000
# Ready once the command has made /tmp/ready; probes every 200 ms.
IMAGE_CHECK = {"Test": ["CMD-SHELL", "test -e /tmp/ready && echo ready"], "Interval": NS // 5, "Retries": 30}
READY_LATER = ["sh", "-c", "trap 'exit 0' TERM; sleep 1; touch /tmp/ready; sleep 3600 & wait"]


def saved_image(rootfs: Path, out: Path, tag: str) -> Path:
    """A `docker save` archive of the busybox root filesystem with a config Docker would write."""
    layer = rootfs.read_bytes()
    digest = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Cmd": READY_LATER, "Env": ["PATH=/bin", "FROM_IMAGE=yes"], "WorkingDir": "/tmp",
                   "ExposedPorts": {"80/tcp": {}}, "Healthcheck": IMAGE_CHECK},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest}"]}}).encode()
    with tarfile.open(out, "w") as tar:
        tar.add(rootfs, f"{digest}/layer.tar")
        for name, data in (("config.json", config),
                           ("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": [tag],
                                                          "Layers": [f"{digest}/layer.tar"]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_a_loaded_images_healthcheck_runs_unless_disabled(stack: Stack, busybox_tar: Path, tmp_path: Path) -> None:
    archive = saved_image(busybox_tar, tmp_path / "saved.tar", "checked:1")
    assert stack.run("image", "load", "-i", str(archive)).stdout == "Loaded image: checked:1\n"
    stack.write("""
    services:
      inherit: {image: "checked:1"}
      tuned: {image: "checked:1", healthcheck: {retries: 20, timeout: 7s}}
      off: {image: "checked:1", healthcheck: {disable: true}}
    """)
    stack.run("up", "-d", "--wait", "--wait-timeout", "30")
    rows = stack.by_service()
    assert rows["inherit"]["Health"] == "healthy" and rows["off"]["Health"] == ""
    assert rows["off"]["Publishers"] == [{"URL": "", "TargetPort": 80, "PublishedPort": 0, "Protocol": "tcp"}]
    [inherit, tuned, off] = json.loads(stack.run("inspect", "inherit", "tuned", "off").stdout)
    assert inherit["Config"]["Healthcheck"] == IMAGE_CHECK
    assert inherit["State"]["Health"]["Log"][-1]["Output"] == "ready\n"
    # The service's own fields win one by one; the image's test stays.
    assert tuned["Config"]["Healthcheck"] == {**IMAGE_CHECK, "Timeout": 7 * NS, "Retries": 20}
    assert off["Config"]["Healthcheck"] == {"Test": ["NONE"]} and "Health" not in off["State"]
    # The rest of the image's config too: command, environment, working directory.
    assert stack.exec("off", "sh", "-c", "echo $FROM_IMAGE; pwd").stdout == "yes\n/tmp\n"


def test_load_reads_stdin_as_docker_load(stack: Stack, busybox_tar: Path, tmp_path: Path) -> None:
    archive = saved_image(busybox_tar, tmp_path / "saved.tar", "piped")
    with archive.open("rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "composer", "image", "load", "-q"], stdin=stdin,
                                env=stack.roots.env(), capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert ["piped", "latest"] in [line.split()[:2] for line in stack.run("images").stdout.splitlines()]


def test_import_change_gives_an_image_its_healthcheck(stack: Stack, busybox_tar: Path) -> None:
    stack.run("image", "import", "-c", f"CMD {json.dumps(SLEEPER)}", "--change",
              "HEALTHCHECK --interval=200ms --retries=3 CMD [\"sh\", \"-c\", \"echo probed\"]",
              str(busybox_tar), "probed")
    stack.write("services:\n  app: {image: probed}\n")
    stack.run("up", "-d")
    row = wait_for_health(stack, "app", "healthy")
    assert row["Health"] == "healthy"
    bad = stack.run("image", "import", "-c", "LABEL a=b", str(busybox_tar), "labelled", check=False)
    assert bad.returncode == 1
    assert bad.stderr == 'error: --change "LABEL a=b": LABEL is not supported by pycompose\n'
