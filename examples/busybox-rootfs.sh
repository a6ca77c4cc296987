#!/bin/sh
# Build a minimal root-filesystem tarball from Debian's busybox-static, offline.
#   usage: examples/busybox-rootfs.sh OUT.tar
# The result is what `pycompose image import OUT.tar busybox` expects (like `docker import`).
set -eu
out=${1:?usage: $0 OUT.tar}
bb=$(command -v busybox || true)
[ -n "$bb" ] && [ -x /bin/busybox ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/rootfs
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/proc" \
         "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/var/www" "$root/home"
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
    [ "$applet" = bin/busybox ] && continue
    ln -sf /bin/busybox "$root/$applet"
done
cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PW
cat > "$root/etc/group" <<'GR'
root:x:0:
daemon:x:1:
www-data:x:33:
nogroup:x:65534:
GR
# Fixed mtimes and owners so the same busybox always gives the same layer digest.
find "$root" -exec touch -h -d '2000-01-01 00:00:00Z' {} +
tar --sort=name --numeric-owner --owner=0 --group=0 -C "$root" -cf "$out" .
