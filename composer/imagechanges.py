"""`image import --change`: Dockerfile instructions applied to an imported image's config (pure).

As `docker import -c`: each change is one Dockerfile line; moby accepts the instructions
of its `validCommitCommands`. pycompose applies the ones its containers act on — CMD,
ENTRYPOINT, ENV, EXPOSE, USER, WORKDIR, HEALTHCHECK — and refuses the others (LABEL,
ONBUILD, STOPSIGNAL, VOLUME) by name, rather than storing what no container would use.
Shell forms run under `/bin/sh -c` (Docker's default SHELL); ENV, EXPOSE, USER and
WORKDIR expand `$VAR` and `${VAR}` from the environment built so far, as the builder does.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import replace

from composer.errors import PycomposeError
from composer.spec.values import parse_duration
from runtime.config import Healthcheck
from runtime.images import ImageConfig

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "USER", "WORKDIR", "HEALTHCHECK")
UNSUPPORTED = ("LABEL", "ONBUILD", "STOPSIGNAL", "VOLUME")  # valid for docker import, not acted on here
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{[^}]*\}?")
_PORT = re.compile(r"(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?")
_HEALTH_FLAGS = {"--interval": "interval", "--timeout": "timeout", "--start-period": "start_period",
                 "--start-interval": "start_interval", "--retries": "retries"}


class ChangeError(PycomposeError):
    """A --change that is not a Dockerfile instruction pycompose can apply."""


def apply_changes(config: ImageConfig, changes: list[str]) -> ImageConfig:
    """`config` with each change applied in order."""
    for change in changes:
        keyword, *more = change.strip().split(None, 1)  # any whitespace, as the Dockerfile parser
        name, rest = keyword.upper(), (more[0].strip() if more else "")
        if name in UNSUPPORTED:
            raise ChangeError(f'--change "{change}": {name} is not supported by pycompose')
        if name not in SUPPORTED:
            raise ChangeError(f'--change "{change}": {keyword or "(empty)"} is not a valid change; '
                              f"use one of {', '.join(SUPPORTED)}")
        if not rest:
            raise ChangeError(f'--change "{change}": {name} needs an argument')
        try:
            config = _apply(config, name, rest)
        except ValueError as e:
            raise ChangeError(f'--change "{change}": {e}') from None
    return config


def _apply(config: ImageConfig, name: str, rest: str) -> ImageConfig:
    env = dict(entry.split("=", 1) for entry in config.env)
    if name == "CMD":
        return replace(config, cmd=command(rest))
    if name == "ENTRYPOINT":
        return replace(config, entrypoint=command(rest))
    if name == "ENV":
        for key, value in env_pairs(rest, env):
            env[key] = value
        return replace(config, env=tuple(f"{k}={v}" for k, v in env.items()))
    if name == "EXPOSE":
        ports = [port for word in words(rest, env) for port in exposed(word)]
        return replace(config, exposed_ports=tuple(sorted({*config.exposed_ports, *ports})))
    if name == "USER":
        user = words(rest, env)
        if len(user) != 1:
            raise ValueError("USER requires exactly one argument")
        return replace(config, user=user[0])
    if name == "WORKDIR":
        where = posixpath.join(config.working_dir or "/", " ".join(words(rest, env)))
        return replace(config, working_dir=posixpath.normpath(where))
    return replace(config, healthcheck=healthcheck(rest))


def exec_form(rest: str) -> tuple[str, ...] | None:
    """A JSON array of strings (Dockerfile's exec form), else None (the shell form)."""
    if not rest.startswith("["):
        return None
    try:
        parsed = json.loads(rest)
    except ValueError:
        return None
    return tuple(parsed) if isinstance(parsed, list) and all(isinstance(a, str) for a in parsed) else None


def command(rest: str) -> tuple[str, ...]:
    """The exec form as is; the shell form runs under /bin/sh -c."""
    argv = exec_form(rest)  # `[]` is an empty exec form: no command (`ENTRYPOINT []`)
    return argv if argv is not None else ("/bin/sh", "-c", rest)


def env_pairs(rest: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """`KEY=value ...` (quoted and expanded as the builder does), or the legacy `KEY value`."""
    first = rest.split(None, 1)[0]
    if "=" not in first:
        legacy = rest.split(None, 1)
        if len(legacy) != 2:
            raise ValueError("ENV must have two arguments (KEY value) or be KEY=value")
        return [(legacy[0], " ".join(words(legacy[1], env)))]
    pairs = []
    for word in words(rest, env):
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ValueError(f'"{word}" is not KEY=value')
        pairs.append((key, value))
    return pairs


def words(text: str, env: dict[str, str]) -> list[str]:
    """Split like the Dockerfile lexer: whitespace separates, '...' is literal, "..." and bare
    text expand $VAR and ${VAR}, a backslash escapes the next character (in "..." only a
    backslash, a double quote or a dollar)."""
    out: list[str] = []
    word: list[str] | None = None
    quote, i = "", 0
    while i < len(text):
        char = text[i]
        if char.isspace() and not quote:
            if word is not None:
                out.append("".join(word))
            word, i = None, i + 1
            continue
        word = word if word is not None else []
        if char in "'\"" and quote in ("", char):
            quote = "" if quote else char
        elif char == "\\" and quote != "'" and i + 1 < len(text) and (not quote or text[i + 1] in '\\"$'):
            word.append(text[i + 1])
            i += 1
        elif char == "$" and quote != "'":
            value, i = _variable(text, i, env)
            word.append(value)
            continue
        else:
            word.append(char)
        i += 1
    if quote:
        raise ValueError(f"unterminated {quote} quote")
    return out if word is None else [*out, "".join(word)]


def _variable(text: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    """The value of the $VAR or ${VAR} at text[i], and the index after it."""
    match = _VARIABLE.match(text, i)
    if match is None:
        return "$", i + 1
    name = match.group(1) or match.group(2)
    if name is None:
        raise ValueError(f"{match.group(0)}: only $VAR and ${{VAR}} are expanded by pycompose")
    return env.get(name, ""), match.end()


def exposed(word: str) -> list[str]:
    """"80" → ["80/tcp"]; "8000-8001/udp" → both ports."""
    match = _PORT.fullmatch(word)
    if match is None:
        raise ValueError(f'invalid port "{word}": expected PORT[-PORT][/tcp|udp|sctp]')
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if not 0 < first <= last <= 65535:
        raise ValueError(f'invalid port range "{word}"')
    return [f"{port}/{match.group(3) or 'tcp'}" for port in range(first, last + 1)]


def healthcheck(rest: str) -> Healthcheck:
    """HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD ...|NONE"""
    settings: dict[str, float | int] = {}
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        key, sep, value = flag.partition("=")
        if key not in _HEALTH_FLAGS or not sep:
            raise ValueError(f'unknown HEALTHCHECK flag "{flag}"; use {"=, ".join(_HEALTH_FLAGS)}=')
        settings[_HEALTH_FLAGS[key]] = _health_value(key, value)
        rest = rest.strip()
    kind, _, args = rest.partition(" ")
    if kind.upper() == "NONE":
        if args.strip() or settings:
            raise ValueError("HEALTHCHECK NONE takes no arguments or options")
        return Healthcheck(test=("NONE",))
    args = args.strip()
    if kind.upper() != "CMD" or not args:
        raise ValueError('HEALTHCHECK needs "CMD command" or "NONE"')
    argv = exec_form(args)
    if argv == ():
        raise ValueError("Missing command after HEALTHCHECK CMD")
    test = ("CMD", *argv) if argv is not None else ("CMD-SHELL", args)
    return Healthcheck(test=test, **settings)  # type: ignore[arg-type]


def _health_value(key: str, value: str) -> float | int:
    if key == "--retries":
        if not value.isdigit():
            raise ValueError(f"--retries must be a number of at least 0, not {value!r}")
        return int(value)
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise ValueError(f"{key}: invalid duration {value!r} (e.g. 30s, 1m30s)") from None
    if 0 < seconds < 0.001:
        raise ValueError(f"{key} cannot be less than 1ms")
    return seconds
