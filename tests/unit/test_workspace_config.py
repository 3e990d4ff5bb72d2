"""Workspace configuration: the demo loads, and a broken file names the file, the field and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpdesk.adapters.workspace_files import WorkspaceConfigError, load_workspace
from helpdesk.domain.workspace import AttributeError_, StateCategory

from tests.conftest import DEMO_WORKSPACE


@pytest.fixture
def copy_of_demo(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(DEMO_WORKSPACE, target)
    return target


def test_the_demo_workspace_has_the_teams_and_types_the_product_promises() -> None:
    workspace = load_workspace(DEMO_WORKSPACE)

    assert [t.id for t in workspace.teams] == ["frontline", "returns", "logistics", "billing"]
    assert {t.id for t in workspace.ticket_types} == {"damaged-item", "delivery-problem", "refund-request"}
    damaged = workspace.ticket_type("damaged-item")
    assert damaged is not None
    required = {a.id for a in damaged.attributes if a.required}
    assert required == {"order_id", "description"}
    assert damaged.attribute("photos").type == "files"  # type: ignore[union-attr]
    for ticket_type in workspace.ticket_types:
        assert {s.category for s in ticket_type.states} == set(StateCategory)


def test_a_wrong_attribute_type_names_file_field_and_problem(copy_of_demo: Path) -> None:
    path = copy_of_demo / "ticket_types" / "damaged-item.yaml"
    path.write_text(path.read_text().replace("type: files", "type: photo-album"))

    with pytest.raises(WorkspaceConfigError) as broken:
        load_workspace(copy_of_demo)

    message = str(broken.value)
    assert str(path) in message
    assert "attributes.2.type" in message
    assert "Input should be" in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda text: text.replace("default_team: returns", "default_team: nobody"), "default_team: 'nobody'"),
        (lambda text: text.replace("category: resolved", "category: in_progress"), "category 'resolved'"),
        (lambda text: text.replace("id: damaged-item", "id: broken-thing"), "must match the file name"),
        (lambda text: text + "\nflavour: vanilla\n", "flavour: Extra inputs are not permitted"),
        (lambda text: text + "\n  - [unbalanced", "is not valid YAML"),
        (lambda text: text.replace("first_response: PT4H", "first_response: P3D"), "sla: Value error"),
        (lambda text: text.replace("resolution: P2D", "resolution: soon"), "sla.resolution"),
    ],
)
def test_broken_ticket_types_fail_with_a_clear_message(copy_of_demo: Path, edit, expected: str) -> None:
    path = copy_of_demo / "ticket_types" / "damaged-item.yaml"
    path.write_text(edit(path.read_text()))

    with pytest.raises(WorkspaceConfigError, match=r"damaged-item\.yaml") as broken:
        load_workspace(copy_of_demo)
    assert expected in str(broken.value)


def test_a_missing_manifest_is_reported(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceConfigError, match=r"workspace.yaml: not found"):
        load_workspace(tmp_path)


def test_an_unknown_default_team_is_reported(copy_of_demo: Path) -> None:
    manifest = copy_of_demo / "workspace.yaml"
    manifest.write_text(manifest.read_text().replace("default_team: frontline", "default_team: sales"))
    with pytest.raises(WorkspaceConfigError, match=r"workspace.yaml: .*default_team: 'sales'"):
        load_workspace(copy_of_demo)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"order_id": "A", "amount": "ten", "reason": "charged-twice"}, "amount", "decimal"),
        ({"order_id": "A", "amount": True, "reason": "charged-twice"}, "amount", "decimal"),
        ({"order_id": "A", "amount": "1", "reason": "charged-twice", "items": 1.5}, "items", "integer"),
        (
            {"order_id": "A", "amount": "1", "reason": "charged-twice", "returned_item": "yes"},
            "returned_item",
            "true or false",
        ),
        ({"order_id": "A\nB", "amount": "1", "reason": "charged-twice"}, "order_id", "single line"),
        ({"order_id": "A", "amount": "1", "reason": "bored"}, "reason", "must be one of"),
        ({"amount": "1", "reason": "charged-twice"}, "order_id", "required"),
    ],
)
def test_attribute_values_are_checked_against_their_type(values: dict, field: str, message: str) -> None:
    refund = load_workspace(DEMO_WORKSPACE).ticket_type("refund-request")
    assert refund is not None

    with pytest.raises(AttributeError_) as refused:
        refund.validate_attributes(values, creating=True)

    assert any(f == field and message in m for f, m in refused.value.problems), refused.value.problems


def test_valid_values_are_normalised() -> None:
    delivery = load_workspace(DEMO_WORKSPACE).ticket_type("delivery-problem")
    assert delivery is not None

    cleaned = delivery.validate_attributes(
        {"order_id": "O-1", "problem": "late", "expected_delivery": "2026-05-01T09:30:00Z"}, creating=True
    )

    assert cleaned["expected_delivery"] == "2026-05-01T09:30:00+00:00"
    with pytest.raises(AttributeError_, match="time zone"):
        delivery.validate_attributes({"expected_delivery": "2026-05-01T09:30:00"}, creating=False)


def test_the_demo_lets_only_its_own_shop_page_embed_the_messenger() -> None:
    assert load_workspace(DEMO_WORKSPACE).messenger_origins == ("self",)


def test_messenger_origins_are_normalised(copy_of_demo: Path) -> None:
    manifest = copy_of_demo / "workspace.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "messenger_origins: [self]",
            "messenger_origins: ['HTTPS://Shop.Example.com/', https://shop.example.com, 'http://localhost:3000']",
        )
    )

    assert load_workspace(copy_of_demo).messenger_origins == ("https://shop.example.com", "http://localhost:3000")


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://*.example.com",
        "https://shop.example.com/embed",
        "http://shop.example.com",
        "shop.example.com",
        "null",
        "javascript:alert(1)",
        "https://shop.example.com 'unsafe-inline'",
    ],
)
def test_a_messenger_origin_that_is_not_a_plain_https_origin_is_refused(copy_of_demo: Path, origin: str) -> None:
    manifest = copy_of_demo / "workspace.yaml"
    manifest.write_text(manifest.read_text().replace("messenger_origins: [self]", f"messenger_origins: [{origin!r}]"))

    with pytest.raises(WorkspaceConfigError, match=r"workspace.yaml: messenger_origins: .*is not an origin"):
        load_workspace(copy_of_demo)
