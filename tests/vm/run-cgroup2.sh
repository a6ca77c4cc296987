#!/bin/sh
# Run the runtime's cgroup integration tests, and whole containers, on a real cgroup v2 kernel.
#
# This machine is cgroup v1 (hybrid), so the v2 driver would otherwise only meet a fake
# directory. This boots Debian's kernel (linux-image-amd64) under qemu with software
# emulation (-accel tcg: KVM cannot run stock kernels here) and a busybox initramfs. The
# initramfs loads the modules the guest needs (9p over virtio; overlay, bridge, veth,
# nf_tables and loop for containers and their networks), mounts the host's / read-only over
# 9p, puts tmpfs on /tmp, /run and /var, mounts the checkout (its own share, so a clone under
# /tmp is not hidden) and cgroup2 at /sys/fs/cgroup, then switches root to the host's tree
# with tini as PID 1 and runs pytest with the host's own Python. The exit code comes back on
# the serial console as a marker line. No marker (the VM did not boot, or hung) is a failure.
#
# Usage: tests/vm/run-cgroup2.sh [pytest args]   (default: the selection below)
# Env:   PYTHON (default python3), VM_TIMEOUT seconds (default 900), VM_LOG (serial log file).
set -eu
cd "$(dirname "$0")/../.."
REPO=$(pwd)
PYTHON=${PYTHON:-python3}
PY=$("$PYTHON" -c 'import sys; print(sys.executable)')  # the real binary, not a pyenv shim
TIMEOUT=${VM_TIMEOUT:-900}
MARK=PYCOMPOSE-VM-RESULT

fail() { echo "run-cgroup2: $*" >&2; exit 1; }

command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$KERNEL" ] || fail "no kernel in /boot (apt-get install linux-image-amd64)"
KVER=${KERNEL#/boot/vmlinuz-}
BUSYBOX=$(command -v busybox) || fail "busybox is missing (apt-get install busybox-static)"
[ -x /usr/bin/tini ] || fail "tini is missing (apt-get install tini)"
# By default: the cgroup drivers, then whole containers on them (limits and OOM kills, the
# freezer, stats, the devices filter, kill-all, cgroup namespaces) and one stack through the
# CLI (up -d with its network, ps showing the OOM kill, down). Emulation makes each container
# start take seconds, so this is a selection; any pytest arguments replace it.
[ $# -gt 0 ] || set -- \
    tests/integration/test_cgroups.py \
    tests/integration/test_device_filter.py \
    tests/integration/test_runtime_cgroup_effects.py \
    tests/integration/test_runtime_limits_exec_logs.py::test_memory_limit_oom_is_recorded \
    tests/integration/test_runtime_limits_exec_logs.py::test_memory_within_the_limit_is_not_an_oom \
    tests/integration/test_runtime_limits_exec_logs.py::test_sigkill_without_oom_is_not_an_oom \
    tests/integration/test_runtime_limits_exec_logs.py::test_pids_limit_stops_a_fork_loop \
    tests/integration/test_runtime_limits_exec_logs.py::test_exec_joins_the_cgroup_and_dies_with_the_container \
    tests/integration/test_runtime_lifecycle.py::test_remove_leaves_nothing \
    tests/integration/test_runtime_isolation.py::test_cgroup_namespace_hides_the_host_path \
    tests/integration/test_stack.py::test_memory_limit_kill_is_recorded_as_137

work=$(mktemp -d /tmp/pycompose-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
LOG=${VM_LOG:-$work/serial.log}

# --- the initramfs: busybox, the 9p-over-virtio modules, /init --------------------------------
root=$work/initramfs
mkdir -p "$root/bin" "$root/modules" "$root/proc" "$root/sys" "$root/dev" "$root/host"
cp "$BUSYBOX" "$root/bin/busybox"
: >"$root/modules/order"
# 9p over virtio for the shares; overlay for container roots; bridge, veth and nf_tables for
# the networks `up` makes; loop for a block device the device-filter tests may open.
for module in virtio_pci 9pnet_virtio 9p overlay bridge veth nf_tables loop; do
    modprobe -S "$KVER" --show-depends "$module" | while read -r cmd path _; do
        [ "$cmd" = insmod ] || continue  # "builtin ..." needs nothing
        case $path in */arch/x86/crypto/*) continue ;; esac  # optional CPU-specific soft deps
        name=$(basename "$path")
        grep -qx "$name" "$root/modules/order" && continue
        case $path in
            *.ko) cp "$path" "$root/modules/$name" ;;
            *.ko.xz) xz -dc "$path" >"$root/modules/${name%.xz}"; name=${name%.xz} ;;
            *.ko.zst) zstd -qdc "$path" >"$root/modules/${name%.zst}"; name=${name%.zst} ;;
            *) fail "unexpected module file $path" ;;
        esac
        echo "$name" >>"$root/modules/order"
    done
done
[ -s "$root/modules/order" ] || fail "no modules found for kernel $KVER"
# The test image, built here: its hundreds of symlinks take long under emulation.
examples/busybox-rootfs.sh "$root/busybox.tar"

quoted_args=""
for arg in "$@"; do
    quoted_args="$quoted_args '$(printf %s "$arg" | sed "s/'/'\\\\''/g")'"
done
# What runs once the host's tree is the root: pytest, then the marker line, then power off.
cat >"$root/guest.sh" <<EOF
#!/bin/sh
cd '$REPO' && '$PY' -m pytest -p no:cacheprovider --color=no -q -rs --durations=15 $quoted_args
echo "$MARK rc=\$?"
sync
exec '$BUSYBOX' poweroff -f
EOF
cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
result() { echo "$MARK rc=\$1"; sync; poweroff -f; }
for m in \$(cat /modules/order); do insmod /modules/\$m || { echo "insmod \$m failed"; result 90; }; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host || result 91
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup || result 92
mount -t devtmpfs dev /host/dev
for d in tmp run var; do mount -t tmpfs -o mode=1777 \$d /host/\$d; done
# The checkout has its own share: under /tmp (a CI clone, say) the tmpfs above would hide it.
mkdir -p "/host$REPO" && mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose repo "/host$REPO" || result 93
ip link set lo up  # the root namespace's loopback, as on any booted host
echo "cgroup2 controllers: \$(cat /host/sys/fs/cgroup/cgroup.controllers)"
cp /guest.sh /busybox.tar /host/run/
umount /proc /sys /dev
# The host's tree becomes the namespace's root mount, as after any initramfs (a chroot is not
# enough: setns into a container's mount namespace, as exec does, lands on that root mount).
# tini is PID 1 there: it reaps orphans (monitors are daemons) as a booted host's init does.
exec switch_root /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp PYTHONDONTWRITEBYTECODE=1 PYCOMPOSE_EXPECT_CGROUP2=1 \
    PYCOMPOSE_TEST_BUSYBOX_TAR=/run/busybox.tar /usr/bin/tini -- /bin/sh /run/guest.sh
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"

# --- boot --------------------------------------------------------------------------------------
echo "run-cgroup2: booting $KERNEL under qemu (tcg), log: $LOG"
start=$(date +%s)
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 1536 -smp 2 -nographic -no-reboot \
    -kernel "$KERNEL" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=-1 quiet cgroup_no_v1=all" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$REPO,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
    </dev/null >"$LOG" 2>&1
qemu_rc=$?
set -e
tr -d '\r' <"$LOG" | grep -v "^$MARK" | sed 's/^/  vm| /' | tail -n 60
code=$(tr -d '\r' <"$LOG" | sed -n "s/^$MARK rc=\([0-9]*\)\$/\1/p" | tail -n 1)
echo "run-cgroup2: VM ran $(( $(date +%s) - start ))s (qemu exit $qemu_rc)"
if [ -z "$code" ]; then
    [ "$qemu_rc" = 124 ] && fail "the VM timed out after ${TIMEOUT}s without reporting a result"
    fail "the VM did not report a result (it did not boot, or the guest failed early): see the log above"
fi
case $code in
    0) echo "run-cgroup2: the tests passed on cgroup v2" ;;
    9[0-9]) fail "the guest could not set up (code $code: 90 module, 91 9p mount, 92 cgroup2 mount, 93 checkout mount)" ;;
    *) fail "the tests failed on cgroup v2 (pytest exit $code)" ;;
esac
