"""Every Lambda handler the system declares, read from ``helpdesk.surfaces``: for the tests that must
cover each function (imports with an empty environment) and for ``make bench``'s cold-start figures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

HANDLERS_PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "helpdesk" / "handlers"


def declared_handlers() -> list[str]:
    """Dotted paths (``module.function``) of every Lambda handler ``helpdesk.surfaces`` declares.

    Read from everything the module holds: a declaration with a ``handler`` (API surfaces, queue and
    stream consumers, and whatever kind comes next), tuples of them, and ``*_HANDLER`` strings.
    """
    from helpdesk import surfaces

    found: set[str] = set()

    def visit(name: str, value: object) -> None:
        if isinstance(value, tuple):
            for item in value:
                visit(name, item)
        elif (
            dataclasses.is_dataclass(value)
            and not isinstance(value, type)  # a declaration, not the class (whose default may be "")
            and isinstance(handler := getattr(value, "handler", None), str)
        ):
            found.add(handler)
        elif isinstance(value, str) and name.endswith("_HANDLER"):
            found.add(value)

    for name, value in vars(surfaces).items():
        visit(name, value)
    return sorted(found)


def handler_modules() -> list[str]:
    """The module of every declared handler, one per Lambda function."""
    return sorted({dotted.rpartition(".")[0] for dotted in declared_handlers()})


def modules_on_disk() -> list[str]:
    """Every module under ``functions/helpdesk/handlers`` (each should be a declared function), but
    ``entry``: the shared entry point every handler module builds on, not a function of its own."""
    return sorted(
        f"helpdesk.handlers.{p.stem}" for p in HANDLERS_PACKAGE.glob("*.py") if p.stem not in {"__init__", "entry"}
    )
