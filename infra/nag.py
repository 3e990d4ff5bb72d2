"""Acknowledging cdk-nag findings: each one names the rule (and finding) and says why, for reviewers.

An acknowledgement is recorded as ``<pack>::<rule>`` (e.g. ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``),
the form CDK's validation framework matches against the plugin's report. cdk-nag still reports the
finding, and CDK moves it to ``suppressedViolations`` in ``cdk.out/validation-report.json`` together
with the reason and the construct it was acknowledged on: the audit trail a security reviewer reads.
(A bare rule id would also silence cdk-nag, but the finding would vanish from the report.)
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

PACKS = ("AwsSolutions", "Serverless")
"""The cdk-nag packs this app runs (see ``infra.app.add_compliance_checks``)."""


class _Acknowledger:
    def __init__(self, construct: IConstruct) -> None:
        self._construct = construct

    def acknowledge(self, *, id: str, reason: str) -> None:
        """``id`` is the rule as cdk-nag names it: ``AwsSolutions-L1``, ``AwsSolutions-IAM5[Resource::*]``."""
        pack = id.split("-", 1)[0]
        if pack not in PACKS:
            raise ValueError(f"{id!r} is not a rule of the packs this app runs ({', '.join(PACKS)})")
        if len(reason.split()) < 6:
            raise ValueError(f"acknowledging {id} needs a reason a reviewer can judge, not {reason!r}")
        Validations.of(self._construct).acknowledge(Acknowledgment(id=f"{pack}::{id}", reason=reason))


def nag(construct: IConstruct) -> _Acknowledger:
    return _Acknowledger(construct)


def acknowledge_cdk_handler(stack: IConstruct, id_prefix: str, findings: Iterable[str], reason: str) -> None:
    """The same findings on each of the stack's children whose id starts with ``id_prefix``: a handler
    CDK adds by itself (one per stack), whose role and runtime aws-cdk-lib manages."""
    for child in stack.node.children:
        if child.node.id.startswith(id_prefix):
            for finding in findings:
                nag(child).acknowledge(id=finding, reason=reason)
