"""Tags on conversations and tickets: the workspace's vocabulary, and what adding or removing some makes.

A tag is a short lowercase word (``vip``, ``damaged-in-transit``). The workspace lists the tags agents
pick from (``tags.allowed`` in ``workspace.yaml``); with ``tags.free: true`` agents may also make up
new ones (still lowercase words). Tags are internal: customers never see them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk.domain.errors import InvalidInput

TAG = r"^[a-z0-9][a-z0-9-]{0,39}$"
Tag = Annotated[str, Field(pattern=TAG)]
MAX_TAGS = 10
"""Tags on one conversation or ticket: each is an item in the write that changes them (a view's key)."""
_TAG = re.compile(TAG)


class TagSettings(BaseModel):
    """``tags`` in ``workspace.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed: tuple[Tag, ...] = Field(default=(), max_length=200)
    """The tags agents pick from (the inbox offers these)."""
    free: bool = False
    """Whether agents may also use tags that aren't listed (still lowercase words)."""

    @model_validator(mode="after")
    def _unique(self) -> TagSettings:
        seen: set[str] = set()
        for tag in self.allowed:
            if tag in seen:
                raise ValueError(f"allowed: '{tag}' appears twice")
            seen.add(tag)
        return self

    def problem(self, tag: str) -> str | None:
        """Why ``tag`` can't be used in this workspace (None: it can)."""
        if not _TAG.fullmatch(tag):
            return f"'{tag}' is not a tag: use lowercase letters, digits and '-' (at most 40)"
        if not self.free and tag not in self.allowed:
            listed = ", ".join(self.allowed) or "none are configured"
            return f"'{tag}' is not one of the workspace's tags ({listed})"
        return None


def clean_tags(given: Sequence[str] | None, settings: TagSettings, field: str) -> list[str]:
    """The tags as given, trimmed and lowercased, each checked against the workspace (``field`` is named)."""
    tags = list(dict.fromkeys(t.strip().lower() for t in given or ()))
    problems = [(f"{field}.{n}", problem) for n, tag in enumerate(tags) if (problem := settings.problem(tag))]
    if problems:
        raise InvalidInput("tags are not valid in this workspace", problems)
    return tags


def retagged(current: Sequence[str], add: Sequence[str], remove: Sequence[str], field: str = "add_tags") -> list[str]:
    """``current`` with ``add`` added (in order, at the end) and ``remove`` taken away; at most ``MAX_TAGS``."""
    tags = [t for t in current if t not in remove]
    tags += [t for t in add if t not in tags and t not in remove]
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags", [(field, f"would make {len(tags)} tags: at most {MAX_TAGS}")])
    return tags
