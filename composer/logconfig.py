"""A service's `logging:` → the runtime's json-file rotation (pure).

pycompose writes Docker's json-file format; `driver: json-file` (or none given) and
`local` (Docker's other file driver, read here as json-file) honour `max-size` and
`max-file` as Docker does: rotation only with `max-size`; `max-file` defaults to 1.
Other drivers and options are reported by `logging_warnings`, never silently dropped.
"""

from __future__ import annotations

from composer.errors import PlanError
from composer.models import Service
from composer.spec.values import InvalidValue, parse_size
from runtime.config import LogConfig

FILE_DRIVERS = (None, "json-file", "local")
HONOURED_OPTIONS = ("max-size", "max-file")


def log_config(service_name: str, service: Service) -> LogConfig:
    logging = service.logging
    if logging is None or logging.driver not in FILE_DRIVERS:
        return LogConfig()
    where = f"services.{service_name}.logging.options"
    size_text = logging.options.get("max-size")
    files_text = logging.options.get("max-file")
    max_size = None
    if size_text not in (None, "", "-1"):
        try:
            max_size = parse_size(size_text)
        except InvalidValue as e:
            raise PlanError(f"{where}.max-size: {e}") from None
        if max_size <= 0:
            raise PlanError(f'{where}.max-size: must be positive, got "{size_text}"')
    max_files = 1
    if files_text not in (None, ""):
        if not str(files_text).isdigit() or int(str(files_text)) < 1:
            raise PlanError(f'{where}.max-file: must be a whole number of at least 1, got "{files_text}"')
        max_files = int(str(files_text))
    return LogConfig(max_size=max_size, max_files=max_files)


def logging_warnings(where: str, service: Service) -> list[str]:
    logging = service.logging
    if logging is None:
        return []
    if logging.driver not in FILE_DRIVERS:
        return [f"{where}.logging.driver: {logging.driver} is not supported, logs are written as json-file"]
    return [f"{where}.logging.options.{key}: not supported yet, ignored"
            for key in sorted(logging.options) if key not in HONOURED_OPTIONS]
