"""The pages' addresses work as sent: emails, SMS, the embed and the stack's outputs all say
``https://<distribution>/messenger/`` (with ``?ticket=...&link=...``), and S3 behind origin access control
has no index documents, so a CloudFront Function gives each page folder its ``index.html``."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from infra.web_hosting import DIRECTORY_INDEX
from tests.infra.conftest import Assembly


def served(uri: str) -> dict[str, Any]:
    """What the function hands on to the bucket for a viewer asking for ``uri`` (run by Node, as JS)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed (it runs the CDK CLI too)")
    request = {"uri": uri, "querystring": {"ticket": {"value": "T1"}, "link": {"value": "L1"}}}
    script = f"{DIRECTORY_INDEX}\nconsole.log(JSON.stringify(handler({{request: {json.dumps(request)}}})));"
    completed = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    return dict(json.loads(completed.stdout))


@pytest.mark.parametrize(
    ("asked", "fetched"),
    [
        ("/messenger/", "/messenger/index.html"),
        ("/messenger", "/messenger/index.html"),
        ("/inbox/", "/inbox/index.html"),
        ("/inbox", "/inbox/index.html"),
        ("/messenger/static/messenger.js", "/messenger/static/messenger.js"),
        ("/inbox/reports.html", "/inbox/reports.html"),
    ],
)
def test_a_page_folders_address_serves_its_index_and_keeps_the_link(asked: str, fetched: str) -> None:
    request = served(asked)

    assert request["uri"] == fetched
    assert request["querystring"] == {"ticket": {"value": "T1"}, "link": {"value": "L1"}}


def test_both_pages_behaviors_run_the_directory_index_on_viewer_requests(assembly: Assembly) -> None:
    [distribution] = assembly.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    [function_key] = assembly.resources("AWS::CloudFront::Function")
    function_id = function_key.split("/", 1)[1]

    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]

    assert {b.get("PathPattern", "default") for b in behaviors} == {"default", "/inbox/*"}
    for behavior in behaviors:
        [association] = behavior["FunctionAssociations"]
        assert association["EventType"] == "viewer-request"
        assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}
