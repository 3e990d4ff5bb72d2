"""The table's stores, one per aggregate, all writing through ``base.TableStore``."""

from __future__ import annotations

from dataclasses import dataclass, field

from helpdesk.adapters.store.agents import AgentTable
from helpdesk.adapters.store.attachments import AttachmentTable
from helpdesk.adapters.store.conversations import ConversationTable
from helpdesk.adapters.store.customers import CustomerTable
from helpdesk.adapters.store.live import LiveTable
from helpdesk.adapters.store.macros import MacroTable
from helpdesk.adapters.store.parked_workflows import ParkedWorkflowTable
from helpdesk.adapters.store.report_results import ReportResultTable
from helpdesk.adapters.store.tags import TagTable
from helpdesk.adapters.store.tickets import TicketTable
from helpdesk.adapters.store.trackers import TrackerTable

__all__ = [
    "AgentTable",
    "AttachmentTable",
    "ConversationTable",
    "CustomerTable",
    "LiveTable",
    "MacroTable",
    "ParkedWorkflowTable",
    "ReportResultTable",
    "TableStores",
    "TagTable",
    "TicketTable",
    "TrackerTable",
]


@dataclass(frozen=True)
class TableStores:
    """Every store of the table, for the composition root and the tests to hand out."""

    customers: CustomerTable = field(default_factory=CustomerTable)
    agents: AgentTable = field(default_factory=AgentTable)
    conversations: ConversationTable = field(default_factory=ConversationTable)
    attachments: AttachmentTable = field(default_factory=AttachmentTable)
    tickets: TicketTable = field(default_factory=TicketTable)
    trackers: TrackerTable = field(default_factory=TrackerTable)
    live: LiveTable = field(default_factory=LiveTable)
    parked_workflows: ParkedWorkflowTable = field(default_factory=ParkedWorkflowTable)
    report_results: ReportResultTable = field(default_factory=ReportResultTable)
    # Tags and macros (tag views, agents' own macros, applying a macro)
    tags: TagTable = field(default_factory=TagTable)
    macros: MacroTable = field(default_factory=MacroTable)
