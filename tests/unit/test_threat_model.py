"""The threat model (``docs/security.md``) names, for every control, the tests that prove it: each named
test must exist, so a renamed or deleted test can't leave a control that nothing proves."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THREAT_MODEL = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`([\w/]+\.py)::(\w+)`")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


def test_every_test_the_threat_model_names_exists() -> None:
    references = REFERENCE.findall(THREAT_MODEL.read_text())
    assert len(references) > 20, "the threat model should name the tests behind its controls"

    missing = [
        f"{file}::{name}"
        for file, name in references
        if not (ROOT / "tests" / file).is_file() or name not in defined_tests(ROOT / "tests" / file)
    ]

    assert missing == [], f"docs/security.md names tests that don't exist: {missing}"


def test_no_control_is_left_without_its_proof() -> None:
    assert "TODO" not in THREAT_MODEL.read_text()
