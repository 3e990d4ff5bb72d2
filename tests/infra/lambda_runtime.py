"""A function's built artifacts run the way the Lambda Python 3.13 runtime runs them.

``LambdaLayout`` lays out one function in a temporary root: its code asset as ``var/task``, its
layers as ``opt`` (so ``opt/python`` is on the path, as ``/opt/python`` is on Lambda), and
``var/runtime`` holding only what the Lambda runtime itself provides (boto3, botocore, s3transfer,
jmespath, urllib3, dateutil, six), linked from this machine's environment. ``invoke`` starts an
isolated interpreter (``-I -S -B``: no site-packages, no environment-driven paths, no bytecode
written) whose path is only those directories and the standard library, with no system time-zone
database, imports the function's ``Handler`` string as the runtime does, and calls it with an event.

Values in the template that name Lambda's own directories (``/var/task/workspace``) are moved under
the temporary root; nothing else about the function is changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import Any

RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
"""Importable names of what the Lambda Python runtime ships in ``/var/runtime``."""
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
LAMBDA_ROOTS = ("/var/task", "/opt", "/var/runtime")

BOOTSTRAP = r"""
import importlib, json, os, sys, traceback, zoneinfo
task, opt, runtime, event_file, result_file = sys.argv[1:6]
# The runtime's path: the code, the layers, then the runtime's own packages; the standard library is already there.
layer_site = os.path.join(opt, "python", "lib", "python3.13", "site-packages")
sys.path[:0] = [task, layer_site, os.path.join(opt, "python"), runtime]
zoneinfo.reset_tzpath(to=[])  # no system time-zone database on the Lambda runtime: only what the layer brings
stdlib = os.path.dirname(os.__file__)


def from_layout(path):
    if path.startswith((task, opt, runtime)):
        return True
    return path.startswith(stdlib) and "site-packages" not in path.removeprefix(stdlib)


class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
    aws_request_id = "11111111-2222-4333-8444-555555555555"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "layout-test"

    def get_remaining_time_in_millis(self):
        return 30_000


def finish(**outcome):
    foreign = sorted(
        name for name, module in list(sys.modules.items())
        if name not in ("__main__", "__mp_main__") and getattr(module, "__file__", None)
        and not from_layout(module.__file__)
    )
    with open(result_file, "w") as out:
        json.dump({**outcome, "foreign_modules": foreign}, out, default=str)


if os.environ.get("LAYOUT_PROBE"):  # a snippet run where a handler would run; it sets ``result``
    scope = {}
    try:
        exec(open(os.environ["LAYOUT_PROBE"]).read(), scope)
    except Exception as error:
        finish(errorType=type(error).__name__, errorMessage=str(error), stackTrace=traceback.format_exc())
    else:
        finish(result=scope.get("result"))
    sys.exit(0)
module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
try:
    module = importlib.import_module(module_name)
except Exception as error:
    finish(errorType="Runtime.ImportModuleError", errorMessage=f"Unable to import module '{module_name}': {error!r}")
    sys.exit(0)
handler = getattr(module, function_name, None)
if not callable(handler):
    message = f"Handler '{function_name}' missing on module '{module_name}'"
    finish(errorType="Runtime.HandlerNotFound", errorMessage=message)
    sys.exit(0)
try:
    result = handler(json.load(open(event_file)), Context())
except Exception as error:
    finish(errorType=type(error).__name__, errorMessage=str(error), stackTrace=traceback.format_exc())
else:
    finish(result=result)
"""


@dataclass
class Outcome:
    """What an invocation returned, or how it failed (``error_type`` as Lambda names it)."""

    result: Any = None
    error_type: str | None = None
    error_message: str = ""
    foreign_modules: list[str] = field(default_factory=list)
    log: str = ""

    def describe(self) -> str:
        return f"{self.error_type}: {self.error_message}\n--- log ---\n{self.log[-4000:]}"


def runtime_packages(root: Path) -> Path:
    """``root/var/runtime``: links to this environment's copies of what the Lambda runtime provides."""
    runtime = root / "var" / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_MODULES:
        spec = util.find_spec(name)
        assert spec is not None, f"{name} is not installed here"
        assert spec.origin, name
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (runtime / source.name).symlink_to(source, target_is_directory=source.is_dir())
    for distribution in RUNTIME_DISTRIBUTIONS:  # their metadata too, as the runtime has it
        info = Path(str(metadata.distribution(distribution)._path))  # type: ignore[attr-defined]
        (runtime / info.name).symlink_to(info, target_is_directory=True)
    return runtime


def unpacked(asset: Path, into: Path) -> Path:
    """An asset as Lambda unpacks it: a staged directory's content, or a zip's."""
    into.mkdir(parents=True, exist_ok=True)
    if asset.is_dir():
        shutil.copytree(asset, into, dirs_exist_ok=True, symlinks=True)
    else:
        with zipfile.ZipFile(asset) as archive:
            archive.extractall(into)
    return into


@dataclass
class LambdaLayout:
    root: Path
    code: Path
    layers: list[Path]
    runtime: Path

    @classmethod
    def build(cls, root: Path, code: Path, layers: list[Path], runtime: Path) -> LambdaLayout:
        """``code`` (a code asset) as ``var/task``; the layers' contents merged into ``opt``, in order.

        A staged directory is linked rather than copied (the interpreter writes nothing: ``-B``).
        """
        task = root / "var" / "task"
        task.parent.mkdir(parents=True, exist_ok=True)
        if code.is_dir():
            task.symlink_to(code, target_is_directory=True)
        else:
            unpacked(code, task)
        opt = root / "opt"
        if len(layers) == 1 and layers[0].is_dir():
            opt.symlink_to(layers[0], target_is_directory=True)
        else:
            for layer in layers:
                unpacked(layer, opt)
        return cls(root=root, code=task, layers=layers, runtime=runtime)

    @property
    def opt(self) -> Path:
        return self.root / "opt"

    def moved(self, value: str) -> str:
        """A value naming one of Lambda's directories, pointed at the same place in this layout."""
        for lambda_root, here in zip(LAMBDA_ROOTS, (self.code, self.opt, self.runtime), strict=True):
            if value == lambda_root or value.startswith(lambda_root + "/"):
                return str(here) + value.removeprefix(lambda_root)
        return value

    def probe(self, code: str, environment: dict[str, str] | None = None) -> Outcome:
        """Run ``code`` (which sets ``result``) in the interpreter a handler would run in, with its path."""
        script = self.root / "invocation" / "probe.py"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(code)
        variables = {**(environment or {}), "LAYOUT_PROBE": str(script)}
        return self.invoke("probe.result", {}, variables, name="layout-probe")

    def invoke(
        self, handler: str, event: dict[str, Any], environment: dict[str, str], *, name: str, memory_mb: int = 512
    ) -> Outcome:
        """Import ``handler`` and call it with ``event``, in a fresh isolated interpreter."""
        scratch = self.root / "invocation"
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / "bootstrap.py").write_text(BOOTSTRAP)
        (scratch / "event.json").write_text(json.dumps(event))
        result_file = scratch / "result.json"
        result_file.unlink(missing_ok=True)
        lambda_environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(self.code),
            "LAMBDA_RUNTIME_DIR": str(self.runtime),
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            **{key: self.moved(value) for key, value in environment.items()},
        }
        arguments = [scratch / "bootstrap.py", self.code, self.opt, self.runtime, scratch / "event.json", result_file]
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-B", *map(str, arguments)],
            env=lambda_environment,
            cwd=self.code,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        log = done.stdout + done.stderr
        if not result_file.exists():
            return Outcome(error_type="Runtime.ExitError", error_message=f"exit code {done.returncode}", log=log)
        outcome = json.loads(result_file.read_text())
        return Outcome(
            result=outcome.get("result"),
            error_type=outcome.get("errorType"),
            error_message=outcome.get("errorMessage", "") + outcome.get("stackTrace", ""),
            foreign_modules=outcome["foreign_modules"],
            log=log,
        )
