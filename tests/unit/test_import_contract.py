"""The layering is a checked contract (``[tool.importlinter]`` in pyproject.toml), not a sentence.

``make lint`` runs it on the code as it is; here it runs on copies of the code with one deliberate
violation each, to prove the contract would catch it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def run_contract(functions: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(functions)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(REPO / "pyproject.toml")],
        cwd=functions.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def code_copy(tmp_path: Path) -> Path:
    functions = tmp_path / "functions"
    shutil.copytree(REPO / "functions", functions, ignore=shutil.ignore_patterns("__pycache__"))
    return functions


def test_the_code_as_it_is_keeps_every_contract(code_copy: Path) -> None:
    result = run_contract(code_copy)

    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "violation", "contract"),
    [
        ("helpdesk/domain/models.py", "import boto3", "The domain is pure"),
        ("helpdesk/services/agents.py", "from helpdesk.adapters.store import AgentTable", "Services reach"),
        ("helpdesk/adapters/cursors.py", "from helpdesk.services import tickets", "Adapters depend on the domain"),
        ("helpdesk/handlers/snooze_waker.py", "from helpdesk.api import views", "workers don't load the HTTP"),
        ("helpdesk/services/tickets.py", "from helpdesk import wiring", "Layers"),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(
    code_copy: Path, module: str, violation: str, contract: str
) -> None:
    # Given one import that crosses a boundary
    path = code_copy / module
    text = path.read_text()
    marker = "from __future__ import annotations\n"
    path.write_text(text.replace(marker, f"{marker}\n{violation}  # noqa\n", 1))

    # When the contract runs
    result = run_contract(code_copy)

    # Then it fails, naming the broken contract
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in " ".join(broken.split()), result.stdout[-3000:]
