"""Data-protection requests about one customer: export everything we hold, or erase it everywhere.

Only admins ask (``Action.EXPORT``, ``Action.ERASE``). Both are asynchronous, so each route makes
at most two DynamoDB requests (the customer's profile, the request's record):

- **export**: the route records the request and queues it; the privacy worker gathers the customer's
  table items, files, emails as received and lake events into a zip in S3 (``build_export``); ``GET`` on the request
  answers a short-lived link once it is done;
- **erasure**: the route records the request and starts the erasure state machine, whose steps the
  same worker runs in order (``erase_lake``, ``erase_files``, ``erase_table``, ``finish_erasure``):
  the lake is rewritten while the table still says which conversations and tickets were theirs.
  The finished request is the audit entry (no personal data: ``customer_ref``); its change on the
  table's stream becomes ``CustomerErased`` on the bus, for the business's own systems.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from helpdesk.domain.errors import NotFound
from helpdesk.domain.models import new_id, utc_now
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.privacy import (
    CustomerHoldings,
    DataRequest,
    ErasureCounts,
    RequestKind,
    RequestStatus,
    belongs_to,
    customer_ref,
    email_originals_prefix,
    export_key,
)
from helpdesk.domain.workspace import Workspace
from helpdesk.services.attachments import safe_filename
from helpdesk.services.ports import ReportResults
from helpdesk.services.privacy_ports import (
    CustomerDataRecords,
    ErasureWorkflow,
    PrivacyFiles,
    PrivacyTasks,
)

ERASURE_WORKFLOW = "erasure"
EXPORT_TASK = "export"


def attachment_key(customer_id: str, attachment_id: str) -> str:
    """Where a customer's uploaded file is (``helpdesk.services.attachments.object_key``)."""
    return f"attachments/{customer_id}/{attachment_id}"


class CustomerDataService:
    def __init__(
        self,
        records: CustomerDataRecords,
        files: PrivacyFiles,
        workspace: Workspace,
        *,
        tasks: PrivacyTasks | None = None,
        workflow: ErasureWorkflow | None = None,
        report_answers: ReportResults | None = None,
    ) -> None:
        self._records = records
        self._report_answers = report_answers
        self._files = files
        self._workspace = workspace
        self._tasks = tasks
        self._workflow = workflow

    # --- the routes (at most two DynamoDB requests each) ------------------------------------------

    def request_export(self, agent: AgentPrincipal, customer_id: str) -> DataRequest:
        request = self._new_request(agent, customer_id, RequestKind.EXPORT, Action.EXPORT)
        if self._tasks is None:
            raise RuntimeError("the privacy worker's queue is not wired")
        # The customer's id travels in the task, not in the request's record: that outlives an erasure.
        self._tasks.send({"task": EXPORT_TASK, "request_id": request.id, "customer_id": customer_id})
        return request

    def request_erasure(self, agent: AgentPrincipal, customer_id: str) -> DataRequest:
        request = self._new_request(agent, customer_id, RequestKind.ERASURE, Action.ERASE)
        if self._workflow is None:
            raise RuntimeError("the erasure workflow is not wired")
        self._workflow.start(ERASURE_WORKFLOW, request.id, {"erasure_id": request.id})
        return request

    def request_status(
        self, agent: AgentPrincipal, customer_id: str, request_id: str, kind: RequestKind
    ) -> tuple[DataRequest, str | None]:
        """The request (one GetItem) and, for a finished export, a short-lived download link."""
        action = Action.EXPORT if kind is RequestKind.EXPORT else Action.ERASE
        authorize(agent, action, Resource.customer(customer_id, frozenset()))
        request = self._records.get_request(request_id)
        if request is None or request.kind is not kind or request.customer_ref != customer_ref(customer_id):
            raise NotFound(f"no {kind.value} {request_id} for customer {customer_id}")
        link = None
        if request.status is RequestStatus.DONE and request.object_key:
            link = self._files.export_link(request.object_key, f"customer-data-{request.id}.zip")
        return request, link

    def _new_request(self, agent: AgentPrincipal, customer_id: str, kind: RequestKind, action: Action) -> DataRequest:
        # Admins only: decided before anything is read, so a refusal tells nobody whether the customer exists.
        authorize(agent, action, Resource.customer(customer_id, frozenset()))
        if not self._records.customer_exists(customer_id):
            raise NotFound(f"no customer {customer_id}")
        request = DataRequest(
            id=new_id(),
            kind=kind,
            customer_id=customer_id if kind is RequestKind.ERASURE else None,
            customer_ref=customer_ref(customer_id),
            requested_by=agent.id,
            requested_at=utc_now(),
        )
        self._records.save_request(request)
        return request

    # --- the worker -------------------------------------------------------------------------------

    def build_export(self, request_id: str, customer_id: str) -> DataRequest | None:
        """Gather the customer's data into a zip in S3 and mark the request done (again: same zip).
        None for a request that isn't recorded (nothing to build: retrying would not change that)."""
        request = self._records.get_request(request_id)
        if request is None or request.kind is not RequestKind.EXPORT:
            return None
        if request.status is not RequestStatus.RUNNING or request.customer_ref != customer_ref(customer_id):
            return request
        held = self._records.holdings(customer_id)
        key = export_key(customer_id, request.id)
        self._files.write_export(key, self._zip(held, request))
        done = request.model_copy(update={"status": RequestStatus.DONE, "finished_at": utc_now(), "object_key": key})
        self._records.save_request(done)
        return done

    def _zip(self, held: CustomerHoldings, request: DataRequest) -> bytes:
        def dump(value: Any) -> str:
            return json.dumps(value, indent=2, ensure_ascii=False, default=str)

        buffer = io.BytesIO()
        files: list[dict[str, Any]] = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("profile.json", dump(held.profile.model_dump(mode="json") if held.profile else None))
            for record in held.conversations:
                archive.writestr(f"conversations/{record.conversation.id}.json", dump(record.model_dump(mode="json")))
            for ticket in held.tickets:
                archive.writestr(f"tickets/{ticket.ticket.id}.json", dump(ticket.model_dump(mode="json")))
            ratings = [
                {"ticket_id": t.ticket.id, "rating": t.ticket.rating.model_dump(mode="json")}
                for t in held.tickets
                if t.ticket.rating is not None
            ]
            archive.writestr("ratings.json", dump(ratings))
            for attachment in held.attachments:
                body = self._files.read_file(attachment_key(attachment.customer_id, attachment.id))
                path = f"attachments/{attachment.id}-{safe_filename(attachment.filename)}"
                if body is not None:
                    archive.writestr(path, body)
                files.append(attachment.model_dump(mode="json") | {"path": path if body is not None else None})
            archive.writestr("attachments.json", dump(files))
            emails = self._files.email_originals(email_originals_prefix(held.customer_id))
            for name, raw in emails.items():
                archive.writestr(f"emails/{name}.eml", raw)
            events = self._files.lake_events(self._theirs(held), _first_day(held))
            archive.writestr("events.json", dump(events))
            archive.writestr(
                "manifest.json",
                dump(
                    {
                        "request_id": request.id,
                        "customer_id": held.customer_id,
                        "generated_at": utc_now().isoformat(),
                        "conversations": len(held.conversations),
                        "tickets": len(held.tickets),
                        "attachments": len(held.attachments),
                        "ratings": len(ratings),
                        "emails": len(emails),
                        "events": len(events),
                    }
                ),
            )
        return buffer.getvalue()

    @staticmethod
    def _theirs(held: CustomerHoldings) -> Any:
        ids = held.record_ids
        return lambda event: belongs_to(event, held.customer_id, ids)

    # --- the erasure's steps (each may run again: each is idempotent) -----------------------------

    def erase_lake(self, erasure_id: str) -> dict[str, int]:
        request = self._running(erasure_id, RequestKind.ERASURE)
        if request.customer_id is None:
            return {}
        held = self._records.holdings(request.customer_id)
        theirs = self._theirs(held)
        rewritten, removed = self._files.rewrite_lake(lambda event: not theirs(event), _first_day(held))
        return {"lake_objects_rewritten": rewritten, "lake_events_removed": removed}

    def erase_files(self, erasure_id: str) -> dict[str, int]:
        request = self._running(erasure_id, RequestKind.ERASURE)
        if request.customer_id is None:
            return {}
        deleted = self._files.delete_prefix(f"attachments/{request.customer_id}/")
        deleted += self._files.delete_prefix(f"thumbnails/attachments/{request.customer_id}/")  # their thumbnails
        deleted += self._files.delete_prefix(export_key(request.customer_id, "").rpartition("/")[0] + "/")
        deleted += self._files.delete_email_originals(email_originals_prefix(request.customer_id))
        return {"files_deleted": deleted}

    def erase_table(self, erasure_id: str) -> dict[str, int]:
        request = self._running(erasure_id, RequestKind.ERASURE)
        if request.customer_id is None:
            return {}
        held = self._records.holdings(request.customer_id)
        counts = self._records.erase(held, keep_agent_messages=self._workspace.privacy.keep_agent_messages)
        if self._report_answers is not None:  # kept answers may list their tickets: computed again, without them
            self._report_answers.forget_answers(utc_now())
        return {"items_deleted": counts.items_deleted, "items_anonymized": counts.items_anonymized}

    def finish_erasure(self, erasure_id: str, steps: dict[str, Any]) -> DataRequest:
        """Record the audit entry (without the customer's id) and announce ``CustomerErased``."""
        request = self._running(erasure_id, RequestKind.ERASURE)
        if request.customer_id is None:
            return request
        counts = ErasureCounts.model_validate({k: v for k, v in steps.items() if k in ErasureCounts.model_fields})
        finished = utc_now()
        # The table's stream carries this change to the event publisher, which announces CustomerErased
        # (with the id from the image before it): the one way events reach the bus.
        audit = request.model_copy(
            update={"status": RequestStatus.DONE, "finished_at": finished, "counts": counts, "customer_id": None}
        )
        self._records.save_request(audit)
        return audit

    def _running(self, request_id: str, kind: RequestKind) -> DataRequest:
        request = self._records.get_request(request_id)
        if request is None or request.kind is not kind:
            raise NotFound(f"no {kind.value} {request_id}")
        return request


def _first_day(held: CustomerHoldings) -> str:
    """The first day anything of theirs happened: the lake's partitions before it can't hold them."""
    moments: list[datetime] = [c.conversation.created_at for c in held.conversations]
    moments += [t.ticket.created_at for t in held.tickets]
    return min(moments).strftime("%Y-%m-%d") if moments else "9999-12-31"
