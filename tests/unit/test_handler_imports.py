"""Importing a handler needs no configuration and calls nothing, as Lambda's init phase expects.

Each handler ``helpdesk.surfaces`` declares is imported in a fresh interpreter whose environment holds
only ``AWS_DEFAULT_REGION`` and ``PYTHONPATH`` (the function code, as ``/var/task`` is on Lambda): no
table name, no queue URLs, no secrets. The import must succeed, and any network use during it (a
connection, a datagram, a name lookup) is refused and reported. And our own code must read no
environment variable while it is imported: configuration is read on first use (``settings()``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.support.lambda_handlers import declared_handlers

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# Runs in the child: refuse the network before anything is imported, then import the handler.
PROBE = """
import json, socket, sys, traceback

attempts = []

def refused(what):
    def call(*args, **kwargs):
        target = args[1] if isinstance(args[0], socket.socket) and len(args) > 1 else args[0] if args else None
        attempts.append({"call": what, "to": repr(target)[:200]})
        raise OSError(f"no network while importing a handler ({what})")
    return call

socket.socket.connect = refused("connect")
socket.socket.connect_ex = refused("connect_ex")
socket.socket.sendto = refused("sendto")
socket.getaddrinfo = refused("getaddrinfo")
socket.create_connection = refused("create_connection")

import os

reads = []
_get, _contains = os._Environ.__getitem__, os._Environ.__contains__

def _reader():
    frame = sys._getframe(1)
    plumbing = ("<string>", "os.py", "<frozen os>", "_collections_abc.py", "<frozen _collections_abc>")
    while frame is not None and frame.f_code.co_filename.endswith(plumbing):
        frame = frame.f_back
    return frame

def _record(key):
    frame = _reader()
    if frame is not None and frame.f_code.co_filename.startswith(sys.argv[2]):
        where = frame.f_code.co_filename[len(sys.argv[2]):].lstrip("/")
        reads.append(f"{key} ({where}:{frame.f_lineno})")

def recorded_get(self, key):
    _record(key)
    return _get(self, key)

def recorded_contains(self, key):
    _record(key)
    return _contains(self, key)

os._Environ.__getitem__ = recorded_get
os._Environ.__contains__ = recorded_contains

module_name, _, function = sys.argv[1].rpartition(".")
try:
    module = __import__(module_name, fromlist=[function])
    error = None if callable(getattr(module, function, None)) else f"{module_name} has no function {function}"
except BaseException:
    error = traceback.format_exc()
print(json.dumps({"error": error, "network": attempts, "environment": sorted(set(reads))}))
"""


@dataclass(frozen=True)
class ImportOutcome:
    error: str | None
    network: list[dict[str, str]]
    environment: list[str]
    """``NAME (file:line)`` for every variable our own code read while the handler was imported."""


@cache
def import_alone(handler: str) -> ImportOutcome:
    """Import ``handler`` in a fresh interpreter with nothing in its environment but the region and the code."""
    environment = {"AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(FUNCTIONS)}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, handler, str(FUNCTIONS / "helpdesk")],
        capture_output=True,
        text=True,
        env=environment,
        cwd=FUNCTIONS,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return ImportOutcome(**json.loads(completed.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("handler", declared_handlers())
def test_a_handler_imports_with_an_empty_environment_and_no_network(handler: str) -> None:
    outcome = import_alone(handler)

    assert outcome.error is None, f"importing {handler} with an empty environment failed:\n{outcome.error}"
    assert outcome.network == [], f"importing {handler} used the network: {outcome.network}"


@pytest.mark.parametrize("handler", declared_handlers())
def test_importing_a_handler_reads_no_environment_variable(handler: str) -> None:
    outcome = import_alone(handler)

    assert outcome.error is None, outcome.error
    assert outcome.environment == [], f"importing {handler} read {outcome.environment}"
