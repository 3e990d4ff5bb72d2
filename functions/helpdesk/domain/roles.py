"""Agents' roles and the workspace's read visibility: the two inputs of the authorization policy besides teams."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    """Reads and works their teams' conversations and tickets (and what is assigned to them)."""
    LEAD = "lead"
    """An agent who also reassigns their teams' work to anyone, and decides approvals."""
    ADMIN = "admin"
    """Everything, in every team."""


class Visibility(StrEnum):
    """``agent_visibility`` in ``workspace.yaml``: what agents may read beyond their own teams."""

    TEAM = "team"
    """Only their teams' work and what is assigned to them (the default)."""
    ALL = "all"
    """Everything; writes stay team-scoped."""
