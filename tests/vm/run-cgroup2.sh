#!/bin/sh
# Run the runtime's cgroup integration tests on a real cgroup v2 kernel.
#
# This machine is cgroup v1 (hybrid), so the v2 driver would otherwise only meet a fake
# directory. This boots Debian's kernel (linux-image-amd64) under qemu with software
# emulation (-accel tcg: KVM cannot run stock kernels here) and a busybox initramfs. The
# guest mounts the host's / read-only over 9p (virtio modules are put in the initramfs),
# puts tmpfs on /tmp, /run and /var, mounts the checkout (its own share, so a clone under
# /tmp is not hidden), mounts cgroup2 at /sys/fs/cgroup, chroots into the
# host's tree and runs pytest with the host's own Python. The exit code comes back on the
# serial console as a marker line. No marker (the VM did not boot, or hung) is a failure.
#
# Usage: tests/vm/run-cgroup2.sh [pytest args]   (default: tests/integration/test_cgroups.py)
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
[ $# -gt 0 ] || set -- tests/integration/test_cgroups.py

work=$(mktemp -d /tmp/pycompose-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
LOG=${VM_LOG:-$work/serial.log}

# --- the initramfs: busybox, the 9p-over-virtio modules, /init --------------------------------
root=$work/initramfs
mkdir -p "$root/bin" "$root/modules" "$root/proc" "$root/sys" "$root/dev" "$root/host"
cp "$BUSYBOX" "$root/bin/busybox"
: >"$root/modules/order"
for module in virtio_pci 9pnet_virtio 9p; do
    modprobe -S "$KVER" --show-depends "$module" | while read -r cmd path _; do
        [ "$cmd" = insmod ] || continue  # "builtin ..." needs nothing
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

quoted_args=""
for arg in "$@"; do
    quoted_args="$quoted_args '$(printf %s "$arg" | sed "s/'/'\\\\''/g")'"
done
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
echo "cgroup2 controllers: \$(cat /host/sys/fs/cgroup/cgroup.controllers)"
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp PYTHONDONTWRITEBYTECODE=1 PYCOMPOSE_EXPECT_CGROUP2=1 \
    /bin/sh -c "cd '$REPO' && exec '$PY' -m pytest -p no:cacheprovider --color=no -q -rs $quoted_args"
result \$?
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
