"""The published JSON Schemas of the domain events, generated from their models (``helpdesk.domain.events``).

``events/schemas/<DetailType>.json`` is what consumers read: JSON Schema draft 2020-12 of the
event's ``detail``, flat (enums inline, a nullable field typed ``["string", "null"]``), with a
description on every field and an example. Regenerate after changing a model:

    make schemas    (= .venv/bin/python -m helpdesk.domain.event_schemas events/schemas)

A test compares the committed files with what this module renders, so they can't drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from helpdesk.domain.events import DETAIL_MODELS, DetailType, EventDetail

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://helpdesk.example/events/schemas/"
SOURCE = "helpdesk"
KEY_ORDER = ("type", "format", "pattern", "enum", "minLength", "maxLength", "minimum", "maximum", "description")
"""Keys of a property in the order a reader scans them."""


def _inline(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with ``$ref`` resolved and ``anyOf [X, null]`` folded into X."""
    if "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[-1]]
        node = {k: v for k, v in target.items() if k != "title"} | {k: v for k, v in node.items() if k != "$ref"}
    if "anyOf" in node:
        options = [_inline(option, definitions) for option in node["anyOf"]]
        values = [option for option in options if option.get("type") != "null"]
        if len(values) != 1 or len(options) != 2:
            raise ValueError(f"only 'X or null' unions are published, not {node['anyOf']}")
        [value] = values
        node = value | {k: v for k, v in node.items() if k != "anyOf"}
        node["type"] = [value["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
    node.pop("title", None)
    return {key: node[key] for key in KEY_ORDER if key in node} | {k: v for k, v in node.items() if k not in KEY_ORDER}


def schema_of(model: type[EventDetail]) -> dict[str, Any]:
    """The published schema of one detail type."""
    generated = model.model_json_schema()
    definitions = generated.get("$defs", {})
    name = model.detail_type.value
    properties = {field: _inline(node, definitions) for field, node in generated["properties"].items()}
    examples = [{field: ex[field] for field in properties if field in ex} for ex in generated["examples"]]
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}{name}.json",
        "title": name,
        "description": f"{model.summary} The EventBridge event's `detail`; source `{SOURCE}`, detail-type `{name}`.",
        "type": "object",
        "additionalProperties": False,
        "required": sorted(generated["required"]),
        "properties": properties,
        "examples": examples,
    }


def rendered(detail_type: DetailType) -> str:
    """The file's text: two-space indented JSON and a final newline."""
    return json.dumps(schema_of(DETAIL_MODELS[detail_type]), indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """(Re)write every detail type's schema into ``directory``; returns the files written."""
    written = []
    for detail_type in DetailType:
        path = directory / f"{detail_type.value}.json"
        path.write_text(rendered(detail_type))
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "events/schemas")
    for path in write_schemas(target):
        print(path)
