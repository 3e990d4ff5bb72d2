"""Every module of the functions' code stays small enough to read in one sitting: at most 500 lines.

A module that grows past it is a sign it holds more than one thing; split it along what it holds (as
``adapters/store/`` splits the table's aggregates) rather than raising the limit.
"""

from __future__ import annotations

from tests.conftest import REPO

MAX_LINES = 500


def test_no_module_of_the_functions_is_over_500_lines() -> None:
    sizes = {
        str(path.relative_to(REPO)): len(path.read_text().splitlines()) for path in (REPO / "functions").rglob("*.py")
    }
    assert len(sizes) > 100, "the functions' modules are found"
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}
