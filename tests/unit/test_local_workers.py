"""The local runtime's supervised workers: a worker that dies comes back, and ``/healthz`` says so.

Workers here are small stand-ins for the pollers (a loop that counts what it handled), run by the
real ``Supervisor`` behind the real gateway's ``/healthz`` and ``/_local/workers`` answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from localrt.gateway import LocalGateway
from localrt.settings import Settings
from localrt.workers import Duty, Supervisor

BACKOFF = 0.05


class Counter:
    """A worker that handles one item per loop from a shared backlog, like a queue poller."""

    def __init__(self, name: str, backlog: list[int], *, set_up: Callable[[], None] = lambda: None) -> None:
        self.name = name
        self.backlog = backlog
        self.handled: list[int] = []
        self.set_up = set_up
        self.shifts = 0

    def run(self, duty: Duty) -> None:
        self.shifts += 1
        self.set_up()
        duty.ready()
        while duty.rest(0.01):
            if self.backlog:
                self.handled.append(self.backlog.pop(0))


class Failing:
    """A worker whose set-up fails the first ``times`` shifts, with a message carrying personal data."""

    def __init__(self, name: str, times: int) -> None:
        self.name = name
        self.times = times
        self.shifts = 0

    def run(self, duty: Duty) -> None:
        self.shifts += 1
        if self.shifts <= self.times:
            raise ValueError("could not parse alice@example.com's message")
        duty.ready()
        while duty.rest(0.01):
            pass


@pytest.fixture
def stopping() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def eventually(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.01)


def gateway_with(supervisor: Supervisor | None) -> LocalGateway:
    settings = Settings(
        port=0, moto_port=0, table_name="t", workspace_dir=Path("."), messenger_secret="m" * 32, agent_secret="a" * 32
    )
    gateway = LocalGateway(settings, index={})
    gateway.workers = supervisor
    return gateway


def get(gateway: LocalGateway, method: str, path: str) -> tuple[int, Any]:
    status, _, body = gateway.respond(method, path, {}, b"")
    return status, json.loads(body)


def test_a_crashed_worker_is_restarted_and_goes_on_with_the_backlog(stopping: threading.Event) -> None:
    backlog = list(range(200))
    worker = Counter("notifier", backlog)
    supervisor = Supervisor([worker], stopping, first_backoff=BACKOFF)
    supervisor.start()
    eventually(lambda: supervisor.health()[0] and len(worker.handled) > 5)

    assert supervisor.crash("notifier")

    eventually(lambda: supervisor.health()[1][0]["restarts"] == 1 and supervisor.health()[0])
    eventually(lambda: not backlog)
    assert worker.handled == list(range(200)), "nothing lost or handled twice across the restart"
    (state,) = supervisor.health()[1]
    assert state["last_error"]["type"] == "CrashInjected"
    assert worker.shifts == 2


def test_a_death_is_logged_with_its_traceback_and_reported_without_its_message(
    stopping: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Failing("inbound-events", times=1)
    supervisor = Supervisor([worker], stopping, first_backoff=BACKOFF)

    supervisor.start()

    eventually(lambda: supervisor.health()[0])
    (state,) = supervisor.health()[1]
    assert state["restarts"] == 1
    assert state["last_error"]["type"] == "ValueError"
    assert "test_local_workers.py" in state["last_error"]["where"]
    assert "alice" not in json.dumps(state)
    death = next(r for r in caplog.records if "inbound-events died" in r.getMessage())
    assert death.exc_info is not None
    assert death.exc_info[0] is ValueError


def test_a_worker_that_keeps_dying_is_restarted_less_and_less_often(stopping: threading.Event) -> None:
    worker = Failing("workflow-tasks", times=1000)
    supervisor = Supervisor([worker], stopping, first_backoff=BACKOFF, max_backoff=0.4)

    supervisor.start()
    time.sleep(1.2)

    # Backoffs of 0.05, 0.1, 0.2, 0.4, 0.4 ... : about 5 shifts in 1.2 s, not the 24 a fixed 0.05 s would give.
    assert 3 <= worker.shifts <= 7
    assert not supervisor.health()[0]


def test_healthz_reports_each_worker_and_is_503_until_every_worker_is_ready(stopping: threading.Event) -> None:
    set_up_done = threading.Event()

    def slow_set_up() -> None:
        set_up_done.wait(5)

    slow = Counter("event-publisher", [], set_up=slow_set_up)
    quick = Counter("snooze-waker", [])
    supervisor = Supervisor([slow, quick], stopping, first_backoff=BACKOFF)
    gateway = gateway_with(supervisor)
    supervisor.start()
    eventually(lambda: supervisor.health()[1][1]["ready"])

    starting = get(gateway, "GET", "/healthz")
    set_up_done.set()
    eventually(lambda: supervisor.health()[0])
    ready = get(gateway, "GET", "/healthz")

    assert starting[0] == 503
    assert starting[1]["ok"] is False
    assert [(w["name"], w["alive"], w["ready"]) for w in starting[1]["workers"]] == [
        ("event-publisher", True, False),
        ("snooze-waker", True, True),
    ]
    assert ready[0] == 200
    assert ready[1] == {
        "ok": True,
        "workers": [
            {"name": "event-publisher", "alive": True, "ready": True, "restarts": 0, "last_error": None},
            {"name": "snooze-waker", "alive": True, "ready": True, "restarts": 0, "last_error": None},
        ],
    }


def test_healthz_is_503_while_a_crashed_worker_waits_for_its_restart(stopping: threading.Event) -> None:
    supervisor = Supervisor([Counter("notifier", [])], stopping, first_backoff=1.0)
    gateway = gateway_with(supervisor)
    supervisor.start()
    eventually(lambda: supervisor.health()[0])

    status, _ = get(gateway, "POST", "/_local/workers/notifier/crash")
    eventually(lambda: not supervisor.health()[1][0]["alive"])
    down = get(gateway, "GET", "/healthz")

    assert status == 202
    assert down[0] == 503
    assert down[1]["workers"][0]["alive"] is False


def test_crashing_a_worker_needs_post_and_a_worker_that_exists(stopping: threading.Event) -> None:
    supervisor = Supervisor([Counter("notifier", [])], stopping, first_backoff=BACKOFF)
    gateway = gateway_with(supervisor)
    supervisor.start()

    unknown = get(gateway, "POST", "/_local/workers/nobody/crash")
    read = get(gateway, "GET", "/_local/workers/notifier/crash")

    assert unknown[0] == 404
    assert unknown[1]["details"] == [{"field": "name", "message": "one of notifier"}]
    assert read[0] == 405
    assert supervisor.health()[1][0]["restarts"] == 0


def test_workers_stop_when_asked_and_are_not_restarted(stopping: threading.Event) -> None:
    worker = Counter("tracker-fanout", [])
    supervisor = Supervisor([worker], stopping, first_backoff=BACKOFF)
    supervisor.start()
    eventually(lambda: supervisor.health()[0])

    stopping.set()
    supervisor.join(timeout=2)

    (state,) = supervisor.health()[1]
    assert (state["alive"], state["restarts"], state["last_error"]) == (False, 0, None)


def test_worker_names_must_be_unique(stopping: threading.Event) -> None:
    with pytest.raises(ValueError, match="unique"):
        Supervisor([Counter("notifier", []), Counter("notifier", [])], stopping)


def test_the_gateway_s_functions_take_turns_as_powertools_keeps_one_current_event_per_process() -> None:
    """The messenger and the inbox resolvers share ``BaseRouter.current_event``: run at once, one of them
    would answer with the other's caller (a cold-start burst once got a 401 that way)."""
    gateway = gateway_with(None)
    running: list[str] = []
    overlaps: list[tuple[str, ...]] = []

    def slow(name: str) -> Any:
        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            running.append(name)
            overlaps.append(tuple(running))
            time.sleep(0.05)
            running.remove(name)
            return {}

        return handle

    gateway.preload("helpdesk.handlers.messenger_api.lambda_handler", slow("messenger"))
    gateway.preload("helpdesk.handlers.inbox_api.lambda_handler", slow("inbox"))
    calls = [
        threading.Thread(target=gateway.handler(f"helpdesk.handlers.{name}_api.lambda_handler"), args=({}, None))
        for name in ("messenger", "inbox") * 4
    ]
    for call in calls:
        call.start()
    for call in calls:
        call.join()
    assert len(overlaps) == 8
    assert [names for names in overlaps if len(names) > 1] == []
