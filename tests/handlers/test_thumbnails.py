"""Thumbnails: once S3 announces an uploaded image, the thumbnailer draws a small JPEG beside it, and the
agent's link to the file carries a link to that thumbnail (and only once it exists).

The worker is fed S3's notification as the queue delivers it (``events/thumbnailer/image_uploaded.json``
with the test's bucket and key). What isn't an image, or is too large to decode safely, is skipped
without a retry and leaves no thumbnail.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from typing import Any

import boto3
import requests
from PIL import Image

from tests.handlers.test_attachment_uploads import declare, post_file, send
from tests.handlers.test_files_on_pages import PDF, response_headers
from tests.handlers.test_messenger_features import ALICE, start
from tests.support.events import FakeLambdaContext, Reply, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 40, 40, 255)).save(out, format="PNG")
    return out.getvalue()


def shared(messenger: Call, content: bytes, content_type: str) -> tuple[str, str]:
    """Alice sends a file in her conversation: (attachment id, where S3 stored it)."""
    conversation_id = start(messenger, ALICE).body["id"]
    declared = declare(messenger, content_type=content_type, size=len(content))
    post_file(declared, content)
    assert send(messenger, conversation_id, declared["attachment_id"]).status == 201
    return declared["attachment_id"], declared["upload"]["fields"]["key"]


def s3_announces(bucket: str, key: str, size: int) -> dict[str, Any]:
    """Runs the thumbnailer on S3's notification of ``key``, as its queue delivers it."""
    from helpdesk.handlers import thumbnailer

    event = copy.deepcopy(sample_event("thumbnailer/image_uploaded"))
    notification = json.loads(event["Records"][0]["body"])
    notification["Records"][0]["s3"]["bucket"]["name"] = bucket
    notification["Records"][0]["s3"]["object"].update(key=key, size=size)
    event["Records"][0]["body"] = json.dumps(notification)
    result: dict[str, Any] = thumbnailer.lambda_handler(event, FakeLambdaContext())
    return result


def thumbnails_in(bucket: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="thumbnails/")
    return [o["Key"] for o in listed.get("Contents", [])]


def agent_link(inbox: Call, attachment_id: str) -> dict[str, Any]:
    reply = inbox(customised("inbox_api/download_attachment", path=f"/inbox/attachments/{attachment_id}"))
    assert reply.status == 200, reply.body
    return dict(reply.body)


def test_an_uploaded_photo_gets_a_small_jpeg_thumbnail_the_agent_s_link_then_offers(
    messenger: Call, inbox: Call, attachments_bucket: str
) -> None:
    # Given Alice shared an 800x600 photo and the agent asked for it before its thumbnail was made
    photo = png(800, 600)
    attachment_id, key = shared(messenger, photo, "image/png")
    before = agent_link(inbox, attachment_id)

    # When S3 announces the upload to the thumbnailer
    result = s3_announces(attachments_bucket, key, len(photo))

    # Then a JPEG of at most 320 px is stored beside it, and the agent's link now points to it
    assert result == {"batchItemFailures": []}
    assert before["thumbnail_url"] is None
    assert thumbnails_in(attachments_bucket) == [f"thumbnails/{key}.jpg"]
    after = agent_link(inbox, attachment_id)
    shown = requests.get(after["thumbnail_url"], timeout=10)
    assert shown.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.content)) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert thumbnail.size == (320, 240)
    # the original keeps its declared type, inline only through its own link, and saved by the other
    assert response_headers(after["url"])["response-content-type"] == "image/png"
    assert response_headers(after["download_url"])["response-content-disposition"].startswith("attachment;")


def test_a_pdf_is_not_drawn_and_not_retried(messenger: Call, inbox: Call, attachments_bucket: str) -> None:
    # Given Alice shared a PDF
    attachment_id, key = shared(messenger, PDF, "application/pdf")

    # When S3 announces it
    result = s3_announces(attachments_bucket, key, len(PDF))

    # Then nothing is drawn, nothing fails, and its link has no thumbnail
    assert result == {"batchItemFailures": []}
    assert thumbnails_in(attachments_bucket) == []
    assert agent_link(inbox, attachment_id)["thumbnail_url"] is None


def test_a_picture_beyond_the_pixel_limit_is_skipped_without_being_decoded(
    messenger: Call, attachments_bucket: str
) -> None:
    # Given a small file of a huge picture (8000x6000: 48 megapixels, above the 40 megapixel limit)
    bomb = io.BytesIO()
    Image.new("L", (8000, 6000)).save(bomb, format="PNG")
    _, key = shared(messenger, bomb.getvalue(), "image/png")

    # When S3 announces it
    result = s3_announces(attachments_bucket, key, len(bomb.getvalue()))

    # Then it is skipped, not retried
    assert result == {"batchItemFailures": []}
    assert thumbnails_in(attachments_bucket) == []


def test_a_file_s3_announces_as_larger_than_the_limit_is_skipped_unread(
    messenger: Call, attachments_bucket: str
) -> None:
    # Given an upload S3 announces at 16 MB (above the 15 MB the thumbnailer reads)
    _, key = shared(messenger, png(40, 40), "image/png")

    # When S3 announces it
    result = s3_announces(attachments_bucket, key, 16 * 1024 * 1024)

    # Then it is skipped, not retried
    assert result == {"batchItemFailures": []}
    assert thumbnails_in(attachments_bucket) == []


def test_a_notification_that_isn_t_s3_s_is_dropped_rather_than_retried(attachments_bucket: str) -> None:
    from helpdesk.handlers import thumbnailer

    event = copy.deepcopy(sample_event("thumbnailer/image_uploaded"))
    event["Records"][0]["body"] = "not json"

    assert thumbnailer.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
