"""Answers a CloudFormation custom-resource request: a PUT of the outcome to its pre-signed ``ResponseURL``."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


class CustomResourceReply:
    """``respond``, its one instance, is what the handler is given (a class, so its signature is its type)."""

    def __call__(
        self,
        event: dict[str, Any],
        log_stream: str,
        physical_id: str,
        *,
        success: bool,
        reason: str = "",
        data: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(
            {
                "Status": "SUCCESS" if success else "FAILED",
                "Reason": reason or f"see CloudWatch log stream {log_stream}",
                "PhysicalResourceId": physical_id,
                "StackId": event["StackId"],
                "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"],
                "Data": data or {},
            }
        ).encode()
        url = str(event["ResponseURL"])
        if not url.startswith("https://"):
            raise ValueError("a custom-resource response URL is an https pre-signed S3 URL")
        request = urllib.request.Request(  # noqa: S310 - the https URL CloudFormation gave
            url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            pass


respond = CustomResourceReply()
