"""The composition root's inbox search: the search keys, the full-text message index (kept in S3),
the search service and the indexer that keeps both current from the table's stream.

Part of ``helpdesk.wiring``: adapters are built once and kept (``@cache``; ``wiring.reset()`` forgets
them too), services per call.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from helpdesk.settings import settings
from helpdesk.wiring import workspace

if TYPE_CHECKING:
    from helpdesk.adapters.message_index import S3MessageIndex
    from helpdesk.adapters.store.search import SearchTable
    from helpdesk.services.ports import MessageSearch
    from helpdesk.services.search import SearchService
    from helpdesk.services.search_indexing import SearchIndexer


@cache
def search_keys() -> SearchTable:
    from helpdesk.adapters.store.search import SearchTable

    return SearchTable()


def search() -> SearchService:
    from helpdesk.services.search import SearchService

    return SearchService(search_keys(), message_search(), visibility=workspace().agent_visibility)


def message_search() -> MessageSearch | None:
    """The full-text index of messages (None where the deployment has none configured)."""
    return message_index() if settings().search_index_bucket else None


@cache
def message_index() -> S3MessageIndex:
    from helpdesk.adapters.message_index import S3MessageIndex

    config = settings()
    return S3MessageIndex(config.require("search_index_bucket"), refresh_seconds=config.search_index_refresh_seconds)


def search_indexer() -> SearchIndexer:
    from helpdesk.services.search_indexing import SearchIndexer

    return SearchIndexer(message_index(), search_keys())
