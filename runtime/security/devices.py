"""The devices cgroup: which device nodes a container may open or create.

CAP_MKNOD is one of Docker's default capabilities, so a container can create any device
node; what stops it from opening the host's disks is the devices cgroup, deny-all plus
this allow list. The list is runc's AllowedDevices (libcontainer/specconv/spec_linux.go),
which Docker's default spec (moby oci/defaults.go, linux.resources.devices) extends: any
node may be created (m), and only the pseudo-devices and ttys may be read or written.
A privileged container gets ALLOW_ALL.
"""

DEFAULT_DEVICE_RULES = (
    "c *:* m", "b *:* m",  # mknod of anything: using it is what the rules below decide
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  # null zero full random urandom
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",  # tty console ptmx
    "c 136:* rwm",  # the pts of the container's devpts
    "c 10:200 rwm",  # tun
)
ALLOW_ALL = ("a *:* rwm",)
