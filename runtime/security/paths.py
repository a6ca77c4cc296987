"""Docker's masked and read-only paths (moby `oci/defaults.go`, DefaultLinuxSpec: the
`MaskedPaths` and `ReadonlyPaths` of linux; /sys/devices/virtual/powercap was added in
moby 25 after the PLATYPUS RAPL side channel). runc applies them after pivot_root."""

MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
