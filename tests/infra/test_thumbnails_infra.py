"""Thumbnails as deployed: the attachments bucket announces new uploads to the thumbnailer's queue
(with its dead-letter queue), and the thumbnailer may read uploads and write thumbnails, nothing more."""

from __future__ import annotations

import json
from typing import Any

from helpdesk.surfaces import THUMBNAILER

from infra.queue_workers import MAX_RECEIVES
from tests.conftest import REPO
from tests.infra.conftest import Assembly
from tests.infra.test_messaging import (
    function_id,
    granted,
    resources,
    statements_of,
    worker_queue_id,
)


def notification(assembly: Assembly) -> dict[str, Any]:
    [found] = assembly.resources("Custom::S3BucketNotifications").values()
    return found


def test_the_attachments_bucket_announces_only_new_uploads_to_the_thumbnailer_s_queue(assembly: Assembly) -> None:
    stack = resources(assembly)
    config = notification(assembly)["Properties"]["NotificationConfiguration"]
    [queue_config] = config["QueueConfigurations"]

    assert queue_config["Events"] == ["s3:ObjectCreated:*"]
    assert queue_config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "attachments/"}]
    assert queue_config["QueueArn"] == {"Fn::GetAtt": [worker_queue_id(stack, THUMBNAILER.name), "Arn"]}
    assert "-attachments-" in json.dumps(notification(assembly)["Properties"]["BucketName"])


def test_the_thumbnailer_s_queue_has_a_dead_letter_queue(assembly: Assembly) -> None:
    queue = resources(assembly)[worker_queue_id(resources(assembly), THUMBNAILER.name)]["Properties"]

    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES
    assert "Dlq" in queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]


def test_only_s3_for_the_attachments_bucket_may_send_to_the_thumbnailer_s_queue(assembly: Assembly) -> None:
    queue_id = worker_queue_id(resources(assembly), THUMBNAILER.name)
    statements = [
        s
        for p in assembly.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "s3.amazonaws.com"}
    ]

    [statement] = statements
    assert "-attachments-" in json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])


def test_the_thumbnailer_reads_uploads_and_writes_thumbnails_only(assembly: Assembly) -> None:
    statements = statements_of(assembly, THUMBNAILER.name)
    reads, writes = granted(statements, "s3:GetObject"), granted(statements, "s3:PutObject")

    assert len(reads) == 1
    assert json.dumps(reads[0]).endswith('/attachments/*"]]}')
    assert len(writes) == 1
    assert json.dumps(writes[0]).endswith('/thumbnails/*"]]}')
    assert granted(statements, "s3:DeleteObject") == []


def test_the_thumbnailer_alone_carries_the_pillow_layer_and_only_it(assembly: Assembly) -> None:
    stack = resources(assembly)
    [pillow] = [k for k, v in stack.items() if v["Type"] == "AWS::Lambda::LayerVersion" and k.startswith("PillowLayer")]
    carriers = [
        k
        for k, v in stack.items()
        if v["Type"] == "AWS::Lambda::Function" and {"Ref": pillow} in v["Properties"].get("Layers", [])
    ]

    assert carriers == [function_id(stack, THUMBNAILER.name)]
    assert stack[carriers[0]]["Properties"]["Layers"] == [{"Ref": pillow}]


DRAW_EVERY_FORMAT = """
import io, sys
from PIL import Image
from helpdesk.adapters.thumbnail_images import PillowShrinker
from helpdesk.domain.thumbnails import IMAGE_FORMATS
for name in sorted(IMAGE_FORMATS):
    picture = io.BytesIO()
    Image.new("RGB", (900, 700), (10, 200, 30)).save(picture, format=name)
    drawn = PillowShrinker().thumbnail(picture.getvalue())
    print(name, "drawn" if drawn.jpeg else drawn.reason)
"""


def test_the_trimmed_pillow_layer_still_draws_every_format_thumbnails_are_made_of() -> None:
    """Its plugins for AVIF, fonts, colour management and Tk are left out: what thumbnails need stays."""
    import subprocess
    import sys

    from infra.bundling import HOST_ARCH, build_layer

    twin = build_layer(HOST_ARCH, group="thumbnails") / "python"  # this machine's twin of the deployed layer
    assert not list(twin.glob("PIL/_avif*")), "the AVIF plugin is left out"
    code = f"import sys; sys.path[:0] = [{str(twin)!r}, {str(REPO / 'functions')!r}]\n" + DRAW_EVERY_FORMAT
    # -I -S: no site-packages, so Pillow can only come from the layer
    drawn = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=120)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.split("\n")[:-1] == ["GIF drawn", "JPEG drawn", "PNG drawn", "WEBP drawn"]
