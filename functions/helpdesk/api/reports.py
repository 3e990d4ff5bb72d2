"""The reports API: what the Reports page calls, for leads and admins, behind the Cognito authorizer.

``GET /inbox/reports/<section>`` answers one section's table for a range of days and filters;
``GET /inbox/reports/<section>/items`` the conversations or tickets behind one segment of its chart.
A section still being computed answers 202 with ``Retry-After``: ask again. ``?format=csv`` gives
the same table as CSV. Who may read them is the policy's ``VIEW_REPORTS`` (leads and admins).

Its own function (``handlers.reports_api``): the only one allowed to query the lake (Athena).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from helpdesk import wiring
from helpdesk.api.app import build_resolver, resolve
from helpdesk.api.identity import agent_from_event
from helpdesk.api.params import Id
from helpdesk.services.reports import ReportStatus, SectionAnswer, parse_range, parse_segment
from helpdesk.surfaces import REPORTS

app = build_resolver(
    REPORTS,
    title="Reports API",
    description="The Reports page's figures, for leads and admins: volumes, response and resolution times, "
    "SLA, CSAT, the bot and the knowledge base, from the event lake.",
)

FromDay = Annotated[str | None, Query(alias="from", max_length=10, description="First day, YYYY-MM-DD (UTC).")]
ToDay = Annotated[str | None, Query(alias="to", max_length=10, description="Last day, YYYY-MM-DD (UTC).")]
Filter = Annotated[str | None, Query(max_length=64)]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")]
Text = Annotated[str | None, Query(max_length=200)]


class ReportSectionView(BaseModel):
    """One section of the report, or the items behind a segment of it."""

    section: str
    status: Literal["running", "ready", "failed"]
    columns: list[str] = []
    rows: list[list[Any]] = []
    truncated: bool = False
    """The list was cut at its first 1,000 rows."""
    generated_at: datetime | None = None
    reason: str | None = None

    @classmethod
    def of(cls, answer: SectionAnswer) -> ReportSectionView:
        return cls(
            section=answer.section,
            status=answer.status.value,
            columns=answer.columns,
            rows=answer.rows,
            truncated=answer.truncated,
            generated_at=answer.generated_at,
            reason=answer.reason,
        )


def _respond(answer: SectionAnswer, output: str) -> Response[Any]:
    if answer.status is ReportStatus.RUNNING:
        return Response(
            status_code=202,
            content_type=content_types.APPLICATION_JSON,
            body=ReportSectionView.of(answer).model_dump(mode="json"),
            headers={"Retry-After": str(answer.retry_after_seconds or 2)},
        )
    if output == "csv" and answer.status is ReportStatus.READY:
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=answer.csv(),
            headers={"Content-Disposition": f'attachment; filename="{answer.section}.csv"'},
        )
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=ReportSectionView.of(answer).model_dump(mode="json"),
    )


@app.get(
    "/inbox/reports/<section>",
    summary="One section of the report: its table for the range and filters (202 while it is computed)",
    response_description="The section's columns and rows",
)
def get_section(
    section: Id,
    from_day: FromDay = None,
    to_day: ToDay = None,
    team_id: Filter = None,
    channel: Filter = None,
    format: Format = "json",
) -> Response[Any]:
    agent = agent_from_event(app.current_event.raw_event)
    service = wiring.reports()
    report_range = parse_range(wiring.workspace(), service.today(), from_day, to_day, team_id, channel)
    return _respond(service.section(agent, section, report_range), format)


@app.get(
    "/inbox/reports/<section>/items",
    summary="The conversations or tickets behind one segment of a section's chart",
    response_description="The items' columns and rows",
)
def get_section_items(
    section: Id,
    from_day: FromDay = None,
    to_day: ToDay = None,
    team_id: Filter = None,
    channel: Filter = None,
    segment: Text = None,
    breakdown: Filter = None,
    outcome: Filter = None,
    format: Format = "json",
) -> Response[Any]:
    agent = agent_from_event(app.current_event.raw_event)
    service = wiring.reports()
    report_range = parse_range(wiring.workspace(), service.today(), from_day, to_day, team_id, channel)
    drill = parse_segment(section, segment, breakdown, outcome)
    return _respond(service.section(agent, section, report_range, drill), format)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(app, event, context)
