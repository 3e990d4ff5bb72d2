"""The workspace's tags and macros (workspace.yaml ``tags``, ``macros/*.yaml``) and how a macro's reply is filled in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpdesk.adapters.macro_files import load_macros
from helpdesk.adapters.workspace_files import WorkspaceConfigError, load_workspace
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.macros import first_name, matches, placeholder_values, render
from helpdesk.domain.tags import TagSettings, clean_tags, retagged
from helpdesk.domain.workspace import StateCategory

from tests.conftest import DEMO_WORKSPACE


@pytest.fixture
def copy_of_demo(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO_WORKSPACE, target)
    return target


def test_the_demo_s_macros_load_and_one_replies_and_resolves() -> None:
    workspace = load_workspace(DEMO_WORKSPACE)
    macros = {m.id: m for m in load_macros(DEMO_WORKSPACE / "macros", workspace)}

    resolve = macros["replacement-sent-resolve"]
    assert resolve.state is StateCategory.RESOLVED
    assert "{customer.first_name|there}" in (resolve.body or "")
    assert resolve.owner_id is None
    assert set(workspace.tags.allowed) >= {"vip", "refund", "resolved-by-macro"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: Oops\nbody: Hi {customer.nickname}\n", "oops.yaml: body: Value error, unknown placeholder"),
        ("name: Oops\nteam_id: finance\nbody: Hi\n", "oops.yaml: team_id: 'finance' is not one of the workspace's"),
        ("name: Oops\nadd_tags: [angry]\n", "oops.yaml: add_tags.0: 'angry' is not one of the workspace's tags"),
        ("name: Oops\nstate: closed\nbody: Hi\n", "oops.yaml: state: Input should be 'submitted'"),
        ("name: Oops\n", "oops.yaml: (top level): Value error, a macro replies (body) or changes something"),
        ("name: Oops\nbody: Hi\nsubject: no\n", "oops.yaml: subject: Extra inputs are not permitted"),
    ],
)
def test_a_broken_macro_file_fails_the_workspace_naming_file_and_field(
    copy_of_demo: Path, content: str, expected: str
) -> None:
    (copy_of_demo / "macros" / "oops.yaml").write_text(content)

    with pytest.raises(WorkspaceConfigError) as refused:
        load_workspace(copy_of_demo)

    assert expected in str(refused.value)


def test_a_tag_listed_twice_or_not_a_word_fails_the_workspace(copy_of_demo: Path) -> None:
    manifest = copy_of_demo / "workspace.yaml"
    manifest.write_text(manifest.read_text().replace("allowed: [vip,", "allowed: [vip, vip, Big Deal,"))

    with pytest.raises(WorkspaceConfigError) as refused:
        load_workspace(copy_of_demo)

    assert "workspace.yaml: tags.allowed.2: String should match pattern" in str(refused.value)


def test_free_tags_take_any_lowercase_word_and_still_refuse_the_rest() -> None:
    free = TagSettings(allowed=("vip",), free=True)

    assert clean_tags([" Late-Delivery ", "vip", "vip"], free, "add_tags") == ["late-delivery", "vip"]
    with pytest.raises(InvalidInput) as refused:
        clean_tags(["two words"], free, "add_tags")
    assert refused.value.problems[0][0] == "add_tags.0"


def test_retagging_adds_at_the_end_removes_and_stops_at_ten() -> None:
    assert retagged(["vip", "refund"], ["complaint"], ["vip"]) == ["refund", "complaint"]
    with pytest.raises(InvalidInput):
        retagged([f"t{n}" for n in range(10)], ["one-more"], [])


def test_placeholders_take_values_or_fallbacks_and_a_missing_one_refuses_the_reply() -> None:
    class TicketLike:
        number, title, attributes = 1042, "Broken vase", {"order_id": "ORD-7", "photos": ["a", "b"]}

    values = placeholder_values(
        customer_name="Maya Okafor", customer_email=None, ticket=TicketLike(), agent_name="Rita Returns"
    )

    assert render("Hi {customer.first_name}, #{ticket.number} ({ticket.attributes.order_id})", values) == (
        "Hi Maya, #1042 (ORD-7)"
    )
    assert render("Write to {customer.email|us here}. {agent.first_name}", values) == "Write to us here. Rita"
    with pytest.raises(InvalidInput) as refused:
        render("Sent to {customer.email}", values)
    assert "{customer.email}" in str(refused.value)
    assert first_name("  ") is None


def test_the_picker_finds_macros_by_the_start_of_words_in_their_name() -> None:
    workspace = load_workspace(DEMO_WORKSPACE)
    macros = load_macros(DEMO_WORKSPACE / "macros", workspace)

    assert [m.id for m in macros if matches(m, "repl res")] == ["replacement-sent-resolve"]
    assert [m.id for m in macros if matches(m, "")] == [m.id for m in macros]
