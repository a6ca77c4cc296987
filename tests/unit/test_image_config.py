"""Images that carry a config: `import --change`, `load` of docker save / OCI archives, and the
healthcheck a service inherits from its image (moby's merge). No root needed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from composer.imagechanges import ChangeError, apply_changes
from runtime.config import Healthcheck
from runtime.errors import ImageError
from runtime.images import ImageConfig, ImageStore
from runtime.images.model import config_json, parse_config, parse_healthcheck
from tests.unit.test_images import make_tar
from tests.unit.test_translate import translate

NS = 1_000_000_000


# --- --change ----------------------------------------------------------------------------------


def test_changes_set_the_process_config_in_order() -> None:
    config = apply_changes(ImageConfig(), [
        "ENV PATH=/bin", 'env PATH=$PATH:/sbin GREETING="hello world" literal=\\$HOME', "ENV LEGACY some value",
        'CMD ["sleep", "60"]', "ENTRYPOINT exec tini --", "EXPOSE 80 53/udp 8000-8001", "WORKDIR /srv",
        "WORKDIR app", "USER ${LEGACY}"])
    assert config.env == ("PATH=/bin:/sbin", "GREETING=hello world", "literal=$HOME", "LEGACY=some value")
    assert config.cmd == ("sleep", "60") and config.entrypoint == ("/bin/sh", "-c", "exec tini --")
    assert config.exposed_ports == ("53/udp", "80/tcp", "8000/tcp", "8001/tcp")
    assert (config.working_dir, config.user) == ("/srv/app", "some value")


def test_healthcheck_changes_follow_the_dockerfile() -> None:
    shell = apply_changes(ImageConfig(), [
        "HEALTHCHECK --interval=5s --timeout=2s --start-period=1m --start-interval=500ms --retries=4 "
        "CMD wget -q localhost || exit 1"]).healthcheck
    assert shell == Healthcheck(test=("CMD-SHELL", "wget -q localhost || exit 1"), interval=5.0, timeout=2.0,
                                start_period=60.0, start_interval=0.5, retries=4)
    exec_form = apply_changes(ImageConfig(), ['HEALTHCHECK CMD ["test", "-f", "/ok"]']).healthcheck
    assert exec_form == Healthcheck(test=("CMD", "test", "-f", "/ok"))
    assert apply_changes(ImageConfig(), ["HEALTHCHECK NONE"]).healthcheck == Healthcheck(test=("NONE",))


@pytest.mark.parametrize(("change", "message"), [
    ("LABEL a=b", "LABEL is not supported by pycompose"),
    ("VOLUME /data", "VOLUME is not supported by pycompose"),
    ("RUN make", "RUN is not a valid change; use one of CMD, ENTRYPOINT"),
    ("CMD", "CMD needs an argument"),
    ("EXPOSE 80/icmp", 'invalid port "80/icmp"'),
    ("EXPOSE 90-80", 'invalid port range "90-80"'),
    ("ENV A=${B:-x}", r"\$\{B:-x\}: only \$VAR and \$\{VAR\} are expanded"),
    ("ENV =x", '"=x" is not KEY=value'),
    ("HEALTHCHECK --every=5s CMD true", 'unknown HEALTHCHECK flag "--every=5s"'),
    ("HEALTHCHECK --interval=soon CMD true", "--interval: invalid duration 'soon'"),
    ("HEALTHCHECK --timeout=1us CMD true", "--timeout cannot be less than 1ms"),
    ("HEALTHCHECK --retries=-1 CMD true", "--retries must be a number"),
    ("HEALTHCHECK --retries=2 NONE", "HEALTHCHECK NONE takes no arguments"),
    ("HEALTHCHECK true", 'HEALTHCHECK needs "CMD command" or "NONE"'),
    ("HEALTHCHECK CMD []", "Missing command after HEALTHCHECK CMD"),
    ("ENV FOO", "ENV must have two arguments"),
    ("USER a b", "USER requires exactly one argument"),
])
def test_bad_changes_are_refused_naming_the_change(change: str, message: str) -> None:
    with pytest.raises(ChangeError, match=message) as raised:
        apply_changes(ImageConfig(), [change])
    assert str(raised.value).startswith(f'--change "{change}": ')


# --- the stored config -------------------------------------------------------------------------


def test_exposed_ports_and_healthcheck_round_trip_in_dockers_shape() -> None:
    check = Healthcheck(test=("CMD-SHELL", "true"), interval=1.5, retries=2)
    config = ImageConfig(cmd=("sh",), exposed_ports=("80/tcp",), healthcheck=check)
    raw = config_json(config, (), "2026-01-01T00:00:00Z")
    assert json.loads(raw)["config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 1_500_000_000,
                                                        "Retries": 2}
    assert json.loads(raw)["config"]["ExposedPorts"] == {"80/tcp": {}}
    assert parse_config(raw, "x")[0] == config


def test_dockers_healthcheck_json_is_read() -> None:
    assert parse_healthcheck({"Test": ["CMD", "true"], "Interval": 30 * NS, "Timeout": 0, "StartPeriod": 5 * NS,
                              "StartInterval": NS // 2, "Retries": 3}) == Healthcheck(
        test=("CMD", "true"), interval=30.0, start_period=5.0, start_interval=0.5, retries=3)
    assert parse_healthcheck(None) is None and parse_healthcheck({"Test": []}) is None
    with pytest.raises(ValueError, match="must start with NONE, CMD or CMD-SHELL"):
        parse_healthcheck({"Test": ["true"]})


# --- inheriting the image's healthcheck (moby's daemon merge) ----------------------------------

IMAGE_CHECK = Healthcheck(test=("CMD-SHELL", "test -f /ready"), interval=2.0, timeout=1.0, retries=5)
IMAGE = ImageConfig(cmd=("httpd", "-f"), healthcheck=IMAGE_CHECK)


def test_a_service_without_a_healthcheck_inherits_the_images(tmp_path: Path) -> None:
    assert translate(tmp_path, "image: busybox", IMAGE).healthcheck == IMAGE_CHECK
    assert translate(tmp_path, "image: busybox", ImageConfig(cmd=("sh",))).healthcheck is None


def test_service_fields_override_the_images_one_by_one(tmp_path: Path) -> None:
    partial = translate(tmp_path, "image: busybox\nhealthcheck: {interval: 9s, retries: 2}", IMAGE)
    assert partial.healthcheck == Healthcheck(test=IMAGE_CHECK.test, interval=9.0, timeout=1.0, retries=2)
    own = translate(tmp_path, "image: busybox\nhealthcheck: {test: [CMD, 'true']}", IMAGE)
    assert own.healthcheck == Healthcheck(test=("CMD", "true"), interval=2.0, timeout=1.0, retries=5)


def test_disable_or_test_none_turns_the_images_check_off(tmp_path: Path) -> None:
    for service in ("healthcheck: {disable: true}", "healthcheck: {test: [NONE]}"):
        config = translate(tmp_path, f"image: busybox\n{service}", IMAGE)
        assert config.healthcheck is not None and config.healthcheck.test == ("NONE",)
    assert translate(tmp_path, "image: busybox", ImageConfig(
        cmd=("sh",), healthcheck=Healthcheck(test=("NONE",)))).healthcheck == Healthcheck(test=("NONE",))
    # A partial check over an image without one has nothing to run.
    assert translate(tmp_path, "image: busybox\nhealthcheck: {interval: 9s}", ImageConfig(cmd=("sh",))).healthcheck is None


# --- image load ----------------------------------------------------------------------------------


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _layers(tmp_path: Path) -> list[bytes]:
    return [make_tar(tmp_path / f"l{i}.tar", {f"file{i}": f"layer {i}".encode()}).read_bytes() for i in range(2)]


def _config(layers: list[bytes]) -> bytes:
    return json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-01-02T03:04:05.123456789Z",
                       "config": {"Cmd": ["sh"], "Env": ["A=1"], "WorkingDir": "/w", "User": "7",
                                  "ExposedPorts": {"80/tcp": {}},
                                  "Healthcheck": {"Test": ["CMD", "true"], "Interval": 3 * NS, "Retries": 2}},
                       "rootfs": {"type": "layers",
                                  "diff_ids": [f"sha256:{hashlib.sha256(b).hexdigest()}" for b in layers]}}).encode()


def docker_save(path: Path, layers: list[bytes], config: bytes, tags: list[str]) -> Path:
    """What `docker save` (Docker < 25) writes."""
    with tarfile.open(path, "w") as tar:
        names = [f"{hashlib.sha256(b).hexdigest()}/layer.tar" for b in layers]
        for name, data in zip(names, layers, strict=True):
            _add(tar, name, data)
        _add(tar, "cfg.json", config)
        _add(tar, "manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": tags, "Layers": names}]).encode())
    return path


def oci_layout(path: Path, layers: list[bytes], config: bytes, name: str) -> Path:
    """An OCI image layout in a tar, the layers gzip-compressed."""
    import gzip

    blobs = {}

    def blob(data: bytes, media_type: str) -> dict[str, object]:
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    manifest = {"schemaVersion": 2, "config": blob(config, "application/vnd.oci.image.config.v1+json"),
                "layers": [blob(gzip.compress(b), "application/vnd.oci.image.layer.v1.tar+gzip") for b in layers]}
    descriptor = blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    index = {"schemaVersion": 2, "manifests": [{**descriptor, "annotations": {
        "io.containerd.image.name": name, "org.opencontainers.image.ref.name": "latest"}}]}
    with tarfile.open(path, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add(tar, "index.json", json.dumps(index).encode())
        for digest, data in blobs.items():
            _add(tar, f"blobs/sha256/{digest.removeprefix('sha256:')}", data)
    return path


def test_docker_save_archives_load_with_their_config_id_and_tags(tmp_path: Path) -> None:
    layers = _layers(tmp_path)
    config = _config(layers)
    store = ImageStore(tmp_path / "data")
    store.import_tar(make_tar(tmp_path / "r.tar", {"x": b""}), "app:1")  # the tag moves to the loaded image
    [(image, names)] = store.load_archive(docker_save(tmp_path / "a.tar", layers, config, ["app:1", "other"]))
    assert names == ("app:1", "other:latest")
    assert image.id == f"sha256:{hashlib.sha256(config).hexdigest()}"  # Docker's id: the config kept verbatim
    assert image.repo_tags == ("app:1", "other:latest") and len(image.layers) == 2
    assert image.config == ImageConfig(env=("A=1",), cmd=("sh",), working_dir="/w", user="7",
                                       exposed_ports=("80/tcp",),
                                       healthcheck=Healthcheck(test=("CMD", "true"), interval=3.0, retries=2))
    tops = [os.listdir(d) for d in store.layer_dirs(image)]
    assert tops == [["file1"], ["file0"]]  # top layer first


def test_oci_layouts_load_with_gzip_layers_and_the_containerd_name(tmp_path: Path) -> None:
    layers = _layers(tmp_path)
    store = ImageStore(tmp_path / "data")
    [(image, _names)] = store.load_archive(oci_layout(tmp_path / "o.tar", layers, _config(layers),
                                            "docker.io/library/app:2"))
    assert image.repo_tags == ("app:2",) and image.config.healthcheck is not None


def test_damaged_or_foreign_archives_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    layers = _layers(tmp_path)
    store = ImageStore(tmp_path / "data")
    wrong = _config([layers[0], b"something else"])
    with pytest.raises(ImageError, match="does not match the diff id"):
        store.load_archive(docker_save(tmp_path / "bad.tar", layers, wrong, ["app"]))
    assert store.list() == [] and not list((tmp_path / "data/images/layers/sha256").iterdir())
    with pytest.raises(ImageError, match="neither manifest.json .docker save. nor index.json"):
        store.load_archive(make_tar(tmp_path / "rootfs.tar", {"bin/sh": b""}))
    with pytest.raises(ImageError, match="no such file"):
        store.load_archive(tmp_path / "missing.tar")
    (tmp_path / "text.tar").write_text("not a tar")
    with pytest.raises(ImageError, match=r"text.tar: not a tar archive \(plain, gzip, bzip2 or xz\)$"):
        store.load_archive(tmp_path / "text.tar")
    with tarfile.open(tmp_path / "odd.tar", "w") as tar:
        _add(tar, "index.json", b"[]")
    with pytest.raises(ImageError, match="odd.tar is malformed"):
        store.load_archive(tmp_path / "odd.tar")


def test_archives_that_loop_or_are_corrupt_are_one_clear_error(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "data")
    looping = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:aa"}] * 2}
    with tarfile.open(tmp_path / "loop.tar", "w") as tar:
        _add(tar, "index.json", json.dumps({"manifests": [{"digest": "sha256:aa"}]}).encode())
        _add(tar, "blobs/sha256/aa", json.dumps(looping).encode())
    with pytest.raises(ImageError, match="refers back to itself"):
        store.load_archive(tmp_path / "loop.tar")
    with tarfile.open(tmp_path / "links.tar", "w") as tar:
        _add(tar, "manifest.json", json.dumps([{"Config": "a", "RepoTags": [], "Layers": []}]).encode())
        for name, target in (("a", "b"), ("b", "a")):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            tar.addfile(link)
    with pytest.raises(ImageError, match="loop of symbolic links"):
        store.load_archive(tmp_path / "links.tar")
    import gzip

    layers = _layers(tmp_path)
    damaged = bytearray(gzip.compress(layers[0]))
    damaged[20:40] = b"\xff" * 20
    with tarfile.open(tmp_path / "gz.tar", "w") as tar:
        _add(tar, "layer.tar.gz", bytes(damaged))
        _add(tar, "cfg.json", _config([layers[0]]))
        _add(tar, "manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["x"],
                                                "Layers": ["layer.tar.gz"]}]).encode())
    with pytest.raises(ImageError, match="cannot decompress"):
        store.load_archive(tmp_path / "gz.tar")
    assert store.list() == []


def test_empty_exec_forms_tabs_and_workdir_cleaning_follow_the_dockerfile() -> None:
    config = apply_changes(ImageConfig(entrypoint=("sh",), cmd=("x",)),
                           ["ENTRYPOINT []", "CMD\t[\"true\"]", "WORKDIR /a/b/../c/", "WORKDIR d"])
    assert (config.entrypoint, config.cmd, config.working_dir) == ((), ("true",), "/a/c/d")
