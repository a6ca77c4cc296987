"""The last steps before execve, for PID 1 and for exec'd processes, in runc's order.

runc (libcontainer/standard_init_linux.go, setns_init_linux.go for exec):
  1. no_new_privs, when asked;
  2. seccomp now when no_new_privs is off: loading a filter without it needs
     CAP_SYS_ADMIN, which step 3 may drop (the profile must then allow steps 3-4);
  3. capabilities (finalizeNamespace): drop from the bounding set, keep the permitted
     set across the user change, change user, then capset effective = permitted = the
     container's set, inheritable and ambient empty;
  4. seccomp now when no_new_privs is on: as late as possible, so that as few syscalls
     as possible run under the filter before execve.
`prepare` reads what needs the host (the compiled filter) before pivot_root or setns.
"""

from __future__ import annotations

from runtime.security import caps, seccomp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from runtime.config import Security
    from runtime.configview import SecurityView

_PR_SET_NO_NEW_PRIVS = 38


class Prepared:
    __slots__ = ("capabilities", "no_new_privileges", "program")

    def __init__(self, capabilities: tuple[str, ...], no_new_privileges: bool, program: bytes | None) -> None:
        self.capabilities = capabilities
        self.no_new_privileges = no_new_privileges
        self.program = program


def prepare(security: Security | SecurityView, bpf_path: str, all_capabilities: bool = False) -> Prepared:
    """`all_capabilities`: a privileged exec (Docker gives it every capability, while seccomp
    and no_new_privs stay the container's, as runc exec applies the container's)."""
    program = seccomp.program_for(security.seccomp, security.capabilities, bpf_path)
    wanted = caps.CAPABILITIES if all_capabilities else security.capabilities
    return Prepared(wanted, security.no_new_privileges, program)


def finalize(prepared: Prepared, switch_user: Callable[[], None]) -> None:
    """Steps 1-4 of the module docstring; `switch_user` does setgroups/setgid/setuid."""
    if prepared.no_new_privileges:
        from runtime.syscalls import prctl

        prctl(_PR_SET_NO_NEW_PRIVS, 1)
    elif prepared.program is not None:
        seccomp.load_bpf(prepared.program)
    # Capabilities the runtime itself lacks (root here has no CAP_SYS_RESOURCE) cannot be
    # granted: the container gets those of its set that exist.
    keep = caps.mask(prepared.capabilities) & caps.current_bounding()
    caps.drop_bounding(keep)
    caps.set_keepcaps(True)
    switch_user()
    caps.set_keepcaps(False)
    caps.set_capabilities(keep, keep)
    if prepared.no_new_privileges and prepared.program is not None:
        seccomp.load_bpf(prepared.program)
