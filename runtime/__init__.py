"""One container at a time: images, overlay rootfs, namespaces, cgroups, supervision.

Never imports `composer`; its input is an OCI-shaped `ContainerConfig`.
"""
