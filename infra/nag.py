"""Acknowledging cdk-nag findings: each one names the rule (and finding) and says why, for reviewers."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


class _Acknowledger:
    def __init__(self, construct: IConstruct) -> None:
        self._construct = construct

    def acknowledge(self, *, id: str, reason: str) -> None:
        Validations.of(self._construct).acknowledge(Acknowledgment(id=id, reason=reason))


def nag(construct: IConstruct) -> _Acknowledger:
    return _Acknowledger(construct)
