"""The Reports page on the local runtime, after a scripted day: bot resolutions and hand-offs, tickets
that meet and breach their SLA, CSAT ratings. The figures it shows must equal what this test works
out itself from the API's own data (tickets' SLA clocks and ratings, conversations' bot outcomes);
a click on a chart lists the right tickets; each CSV matches its table. Screenshots go to
test-artifacts/, and axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from pydantic import TypeAdapter

from tests.e2e.conftest import LocalRuntime, running_local_runtime
from tests.e2e.test_bot_over_http import Customer
from tests.e2e.test_messenger_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.workspaces import DEMO_WORKSPACE

pytestmark = pytest.mark.e2e
AXE = Path(__file__).with_name("vendor") / "axe-4.14.1.min.js"
FIRST_RESPONSE_SECONDS = 12
DURATION = TypeAdapter(timedelta)


def bot_and_fast_sla_workspace() -> Path:
    """The demo as shipped (with its bot), with a first response owed in 12 s, counted around the clock."""
    import shutil
    import tempfile

    target = Path(tempfile.mkdtemp(prefix="workspace-reports-")) / "demo"
    shutil.copytree(DEMO_WORKSPACE, target)
    manifest = target / "workspace.yaml"
    data = yaml.safe_load(manifest.read_text())
    data.pop("business_hours", None)
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    for path in (target / "ticket_types").glob("*.yaml"):
        ticket_type = yaml.safe_load(path.read_text())
        ticket_type["sla"] = {
            "first_response": f"PT{FIRST_RESPONSE_SECONDS}S",
            "next_response": "PT600S",
            "resolution": "PT900S",
            "business_hours": False,
        }
        path.write_text(yaml.safe_dump(ticket_type, sort_keys=False))
    return target


def eventually[T](probe: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Day:
    runtime: LocalRuntime
    admin: dict[str, str]
    conversations: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    breached_ticket: str = ""

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(f"{self.runtime.base_url}{path}", headers=self.admin, params=params, timeout=30)

    def agent(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        response = requests.request(
            method, f"{self.runtime.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs
        )
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        return dict(response.json())


def resolve(day: Day, token: str, ticket_id: str, state_id: str) -> None:
    ticket = day.agent("GET", f"/inbox/tickets/{ticket_id}", token)
    day.agent("PATCH", f"/inbox/tickets/{ticket_id}", token, json={"version": ticket["version"], "state_id": state_id})


def rate(customer: Customer, ticket_id: str, score: int) -> None:
    response = requests.post(
        f"{customer.base}/messenger/tickets/{ticket_id}/rating",
        headers=customer.headers,
        json={"score": score},
        timeout=30,
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    workspace = bot_and_fast_sla_workspace()
    with running_local_runtime(
        tmp_path_factory.mktemp("localrt-reports"),
        LOCAL_WORKSPACE_DIR=str(workspace),
        LOCAL_TABLE_NAME="helpdesk-reports",
        REPORTS_FRESH_SECONDS="1",
    ) as runtime:
        admin = runtime.agent_token("reports-admin", ["admins"], name="Ada Admin")
        frank = runtime.agent_token("reports-frank", ["frontline", "logistics"], name="Frank")
        rita = runtime.agent_token("reports-rita", ["returns"], name="Rita")
        today = Day(runtime, {"Authorization": f"Bearer {admin}"})

        # The bot resolves an order question from the order system, and a shipping question from the KB.
        alice = Customer(runtime, "reports-alice")
        alice.start("Where is my order?", {"object": {"type": "order", "id": "ORD-1001"}})
        bob = Customer(runtime, "reports-bob")
        bob.start("Do you ship to Norway?")
        bob.say(option_id="yes")
        # Carol's KB answer didn't help; she asks for a person, who makes a ticket and answers at once.
        carol = Customer(runtime, "reports-carol")
        carol.start("Do you ship to Norway?")
        carol.say(option_id="no")
        carol.say(option_id="something-else")
        carol_ticket = today.agent(
            "POST",
            f"/inbox/conversations/{carol.conversation_id}/ticket",
            frank,
            json={"ticket_type_id": "delivery-problem", "team_id": "logistics",
                  "attributes": {"order_id": "ORD-1002", "problem": "late"}},
        )  # fmt: skip
        today.agent("POST", f"/inbox/tickets/{carol_ticket['id']}/replies", frank, json={"body": "On it!"})
        # Dan's damaged parcel becomes a ticket for returns, where nobody answers in time.
        dan = Customer(runtime, "reports-dan")
        dan.start("My vase arrived damaged", {"object": {"type": "order", "id": "ORD-1003"}})
        dan.say("The vase has a crack down one side")
        dan.say("", attachment_ids=[dan.upload_photo()])
        dan.say(option_id="replacement")
        dan_ticket_id = (
            dan.conversation()["ticket_id"]
            or today.agent("GET", f"/inbox/conversations/{dan.conversation_id}", admin)["ticket_id"]
        )
        # Erin asks for a person; her refund ticket is answered at once and stays open (the backlog).
        erin = Customer(runtime, "reports-erin")
        erin.start("Hello")
        erin.say(option_id="something-else")
        erin_ticket = today.agent(
            "POST",
            f"/inbox/conversations/{erin.conversation_id}/ticket",
            frank,
            json={"ticket_type_id": "refund-request", "team_id": "frontline",
                  "attributes": {"order_id": "ORD-1004", "amount": 20, "reason": "changed-mind"}},
        )  # fmt: skip
        today.agent("POST", f"/inbox/tickets/{erin_ticket['id']}/replies", frank, json={"body": "Sure."})

        eventually(
            lambda: today.agent("GET", f"/inbox/tickets/{dan_ticket_id}", admin)["sla"]["clocks"]["first_response"].get(
                "breached_at"
            ),
            "the damaged-item ticket to breach its first-response SLA",
            timeout=90,
        )
        today.agent("POST", f"/inbox/tickets/{dan_ticket_id}/replies", rita, json={"body": "Sorry for the wait."})
        resolve(today, rita, dan_ticket_id, "replaced")
        resolve(today, frank, carol_ticket["id"], "delivered")
        rate(dan, dan_ticket_id, 2)
        rate(carol, carol_ticket["id"], 5)
        # The workflows stop the resolution clocks when they see the resolution (a moment later).
        for resolved in (dan_ticket_id, carol_ticket["id"]):

            def resolution_stopped(ticket_id: str = resolved) -> str | None:
                clocks = today.agent("GET", f"/inbox/tickets/{ticket_id}", admin)["sla"]["clocks"]
                return clocks["resolution"].get("stopped_at")

            eventually(resolution_stopped, "the workflow to stop the resolution clock")

        today.conversations = [c.conversation_id for c in (alice, bob, carol, dan, erin)]
        today.tickets = [carol_ticket["id"], dan_ticket_id, erin_ticket["id"]]
        today.breached_ticket = dan_ticket_id
        yield today


# --- what the test works out from the API's own data -------------------------------------------------


def expected_figures(day: Day) -> dict[str, Any]:
    token = day.admin["Authorization"].removeprefix("Bearer ")
    tickets = [day.agent("GET", f"/inbox/tickets/{t}", token) for t in day.tickets]
    conversations = [day.agent("GET", f"/inbox/conversations/{c}", token) for c in day.conversations]
    first_responses, met, breached = [], 0, 0
    for ticket in tickets:
        for name, clock in ticket["sla"]["clocks"].items():
            elapsed = int(DURATION.validate_python(clock["elapsed"]).total_seconds())
            target = DURATION.validate_python(clock["target"]).total_seconds()
            if name == "first_response" and clock.get("met_at"):
                first_responses.append(elapsed)
            if clock.get("breached_at") or (clock.get("stopped_at") and elapsed > target):
                breached += 1
            elif clock.get("stopped_at"):
                met += 1
    ratings = [t["rating"]["score"] for t in tickets if t["rating"]]
    ended = [c["bot"]["outcome"] for c in conversations if c["bot"] and c["bot"]["outcome"]]
    return {
        "conversations": len(conversations),
        "tickets": len(tickets),
        "median_first_response_seconds": statistics.median(first_responses),
        "sla_met_pct": 100 * met / (met + breached),
        "sla_met": met,
        "sla_breached": breached,
        "csat_average": statistics.mean(ratings),
        "bot_resolution_pct": 100 * ended.count("resolved") / len(ended),
    }


def report_range() -> dict[str, str]:
    today = datetime.now(UTC).date().isoformat()
    return {"from": today, "to": today}


def summary_when_caught_up(day: Day, expected: dict[str, Any]) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        response = day.get("/inbox/reports/summary", **report_range())
        if response.status_code != 200:
            return None
        [row] = response.json()["rows"]
        figures = dict(zip(response.json()["columns"], row, strict=True))
        caught_up = (
            figures["csat_ratings"] == 2
            and figures["tickets"] == expected["tickets"]
            and figures["sla_met"] + figures["sla_breached"] == expected["sla_met"] + expected["sla_breached"]
        )
        return figures if caught_up else None

    return eventually(probe, "the lake to catch up with the day", timeout=60)


def test_the_reports_show_what_the_day_was_by_the_apis_own_data(day: Day) -> None:
    # Given the day's activity, worked out from the tickets and conversations themselves
    expected = expected_figures(day)

    # When the lead asks for today's report
    figures = summary_when_caught_up(day, expected)

    # Then the figures are the same
    assert figures["conversations"] == expected["conversations"]
    assert figures["tickets"] == expected["tickets"]
    assert figures["median_first_response_seconds"] == expected["median_first_response_seconds"]
    assert (figures["sla_met"], figures["sla_breached"]) == (expected["sla_met"], expected["sla_breached"])
    assert figures["sla_met_pct"] == pytest.approx(expected["sla_met_pct"])
    assert figures["csat_average"] == pytest.approx(expected["csat_average"])
    assert figures["bot_resolution_pct"] == pytest.approx(expected["bot_resolution_pct"])
    assert expected["sla_breached"] >= 1  # the day had a breach, and it shows


def test_a_segment_lists_the_tickets_behind_it_and_every_csv_matches_its_table(day: Day) -> None:
    summary_when_caught_up(day, expected_figures(day))
    breached = day.get(
        "/inbox/reports/sla/items", **report_range(), breakdown="team", segment="returns", outcome="breached"
    ).json()
    ids = {row[breached["columns"].index("ticket_id")] for row in breached["rows"]}
    assert ids == {day.breached_ticket}

    for section in ("volumes", "sla", "csat", "bot_paths", "knowledge", "backlog"):
        table = day.get(f"/inbox/reports/{section}", **report_range()).json()
        exported = day.get(f"/inbox/reports/{section}", **report_range(), format="csv")
        assert exported.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.text)))
        assert rows[0] == table["columns"]
        assert rows[1:] == [["" if v is None else str(v) for v in row] for row in table["rows"]], section


def test_an_agent_who_is_not_a_lead_or_admin_gets_403(day: Day) -> None:
    frank = day.runtime.agent_token("reports-frank", ["frontline"], name="Frank")
    refused = requests.get(
        f"{day.runtime.base_url}/inbox/reports/summary", headers={"Authorization": f"Bearer {frank}"}, timeout=30
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"


# --- the page ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make setup` (or apt-get install chromium) installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def test_the_page_shows_the_figures_charts_open_their_tickets_and_axe_finds_nothing_serious(
    day: Day, browser: Any
) -> None:
    expected = expected_figures(day)
    summary_when_caught_up(day, expected)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    token = day.admin["Authorization"].removeprefix("Bearer ")
    page.goto(f"{day.runtime.base_url}/inbox/reports.html")
    page.evaluate(f"sessionStorage.setItem('helpdesk.agentToken', '{token}')")
    today = report_range()
    page.goto(f"{day.runtime.base_url}/inbox/reports.html?from={today['from']}&to={today['to']}")
    # Locators, not wait_for_function: the page's Content-Security-Policy refuses evaluated strings.
    page.locator("body[data-loaded]:not([data-loaded='error'])").wait_for(state="attached", timeout=60000)

    # The headline figures are the day's
    def shown(figure: str) -> str:
        return str(page.locator(f'[data-figure="{figure}"] .value').inner_text())

    assert shown("conversations") == str(expected["conversations"])
    assert shown("tickets") == str(expected["tickets"])
    assert shown("sla_met") == f"{expected['sla_met_pct']:.1f}%"
    assert shown("csat") == f"{expected['csat_average']:.2f}"
    assert shown("bot_resolution") == f"{expected['bot_resolution_pct']:.1f}%"
    assert shown("median_first_response") == f"{expected['median_first_response_seconds'] / 60:.1f} min"
    page.screenshot(path=str(ARTIFACTS / "reports-page.png"), full_page=True)

    # A click on the returns team's "Breached" bar lists the breached ticket
    canvas = page.locator("#chart-sla")
    canvas.scroll_into_view_if_needed()
    labels = page.evaluate("JSON.parse(document.getElementById('chart-sla').dataset.labels)")
    point = page.evaluate(
        """([index]) => {
          const chart = Chart.getChart('chart-sla');
          const bar = chart.getDatasetMeta(1).data[index];
          const box = chart.canvas.getBoundingClientRect();
          return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
        }""",
        [labels.index("returns")],
    )
    page.mouse.click(point["x"], point["y"])
    page.locator("body[data-drilled='sla:returns']").wait_for(state="attached", timeout=30000)
    listed = page.locator("#drill-table tbody tr")
    assert listed.count() == 1
    number = day.agent("GET", f"/inbox/tickets/{day.breached_ticket}", token)["number"]
    assert listed.first.locator("a").inner_text() == f"#{number}"
    page.screenshot(path=str(ARTIFACTS / "reports-drill-down.png"), full_page=True)

    # axe-core: nothing serious or critical
    # (evaluated, not a script tag: the page's Content-Security-Policy allows only its own scripts)
    page.evaluate(AXE.read_text() + "\n;0")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [v["id"] for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    context.close()
