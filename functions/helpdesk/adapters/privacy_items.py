"""The data-protection requests' items (``PRIVACY#<id>``): in a module of their own, imported by
``table`` so that the table's stream decodes them wherever the table is (``store/customer_data.py``
reads and writes them)."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from helpdesk.adapters.table import TableItem

REQUEST_PREFIX = "PRIVACY#"


class DataRequestItem(TableItem, discriminator="data_request"):
    id = UnicodeAttribute()
    request_kind = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    customer_ref = UnicodeAttribute()
    status = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)
    counts = JSONAttribute(null=True)
    failure = UnicodeAttribute(null=True)
