"""Schemathesis hooks for tests/e2e/test_fuzzing.py (loaded through ``SCHEMATHESIS_HOOKS``).

``positive_data_acceptance`` treats any 422 to a schema-valid request as a failure. Some of our 422s are
business rules a static document can't state (a cursor this list never issued, a team or ticket type the
workspace doesn't configure, an empty message without attachments), so the run lets 422 through that
check and this one takes its place: a schema-valid request must never fail *schema* validation (our
"invalid request: check ..." answer), and every 422 must name the fields at fault.

"Schema-valid" means generated in positive mode in every component, outside the stateful phase (whose links
put one response's values into another request wherever they fit, which the document doesn't promise).
"""

from __future__ import annotations

from typing import Any

import schemathesis


def _schema_valid(case: Any) -> bool:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or str(meta.phase.name) == "stateful":
        return False
    return not any(component.mode.is_negative for component in meta.components.values())


@schemathesis.check
def validation_agrees_with_the_document(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code != 422:
        return None
    body = response.json()
    fields = [d.get("field") for d in body.get("details") or [] if isinstance(d, dict)]
    if not fields or not all(fields):
        raise AssertionError(f"a 422 must name the fields at fault: {body}")
    if _schema_valid(case) and str(body.get("message", "")).startswith("invalid request:"):
        raise AssertionError(f"a request the document allows failed schema validation: {body}")
    return None
