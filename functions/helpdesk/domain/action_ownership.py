"""Whose records a custom action touches, and how the action makes sure they are the caller's.

A custom action that reads or changes a customer's records (an order, a booking, an invoice) runs
only for a signed-in customer (``requires: verified_customer``) and only on that customer's own
records. Its ``ownership`` says how that is checked, with one or both of:

- **the caller's verified identity is sent** to the business's system, which refuses other
  customers' records: ``{customer.id}`` (or ``{customer.email}``, ``{customer.attributes.<name>}``)
  in the ``url``, a ``headers`` value or the ``request`` body. These placeholders are filled from
  the messenger token's verified claims only: never from what the customer typed, the unsigned
  context package or anything else the conversation holds.
- **the answer's owner is compared** with the caller: ``owner`` is a JMESPath expression over the
  answer; its value (or, for a list, one of its values) must equal ``owner_is``
  (``{customer.id}`` by default).

Either way a record that isn't the caller's (``refused_statuses``, an owner that differs, or no
owner at all) is the outcome ``not_on_account``: "not found on your account", with nothing of the
answer kept, shown or logged. A write can't rely on the answer's owner alone (it is known only
after the change is made): it sends the identity, or names a read action (``verify_with``) that
is run first on the same record and must find the caller's owner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpdesk.domain.bot import Slug

if TYPE_CHECKING:  # principals -> models -> workspace -> actions -> here: a type, not an import
    from helpdesk.domain.principals import CustomerPrincipal

CALLER_PLACEHOLDER = re.compile(r"^customer\.(id|email|attributes\.[A-Za-z_][A-Za-z0-9_.-]{0,63})$")
"""``{customer.id}``, ``{customer.email}`` or ``{customer.attributes.<name>}``: the verified caller."""
CALLER_PLACEHOLDERS_HELP = "{customer.id}, {customer.email} or {customer.attributes.<name>}"
IDENTITY_LIKE_INPUTS = frozenset(
    {"customer", "customer_id", "customer_email", "user", "user_id", "userid", "email", "account_id", "owner_id"}
)
"""Input names that would carry who the caller is: refused, so identity can only come from the token."""
DEFAULT_REFUSED_STATUSES = (403, 404)
NOT_ON_ACCOUNT = "not on the customer's account"
"""The only text a refused or mismatched record leaves behind (results, logs, the agents' timeline)."""


class Requirement(StrEnum):
    VERIFIED_CUSTOMER = "verified_customer"
    """A customer signed in by the business (a messenger token it signed); never an anonymous visitor."""
    ANYONE = "anyone"
    """Anyone, visitors included: for data that belongs to no customer (stock, opening hours)."""


def is_caller_placeholder(name: str) -> bool:
    return CALLER_PLACEHOLDER.match(name) is not None


@dataclass(frozen=True)
class ActionCaller:
    """Who a custom action runs for, as the messenger's authorizer established it on this request.

    Built from the request's ``CustomerPrincipal`` (the verified token's claims), never from the
    conversation's text, its context package or what was stored when it started: a visitor who
    signs in mid-conversation is the signed-in customer from their next message on.
    """

    customer_id: str
    signed_in: bool
    """False for an anonymous visitor (a token from ``POST /messenger/visitors``)."""
    email: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    """Facts the business signed into the token (e.g. its own customer number)."""

    @classmethod
    def of(cls, principal: CustomerPrincipal) -> ActionCaller:
        return cls(
            customer_id=principal.user_id,
            signed_in=not principal.is_visitor,
            email=principal.email,
            attributes=dict(principal.verified_attributes),
        )

    def identity(self, placeholder: str) -> str:
        """The verified value a ``{customer.…}`` placeholder stands for.

        Raises ``ValueError`` when the caller is a visitor or the token doesn't carry that value.
        """
        if not self.signed_in:
            raise ValueError("an anonymous visitor has no verified identity to send")
        match = CALLER_PLACEHOLDER.match(placeholder)
        if match is None:
            raise ValueError(f"'{{{placeholder}}}' is not one of {CALLER_PLACEHOLDERS_HELP}")
        which = match.group(1)
        if which == "id":
            value: str | None = self.customer_id
        elif which == "email":
            value = self.email
        else:
            value = self.attributes.get(which.removeprefix("attributes."))
        if not value:
            raise ValueError(f"the customer's verified token has no '{which}' for {{{placeholder}}}")
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
            raise ValueError(f"the verified '{which}' holds control characters and can't be sent")
        return value


def owned_by(owner: Any, expected: str, *, by_email: bool = False) -> bool:
    """Whether the answer's owner value names ``expected``: equal text, or one item of a list equal to it.

    No owner (null, empty, an object) is never a match: a record we can't place isn't the caller's.
    """
    if isinstance(owner, list):
        return any(owned_by(item, expected, by_email=by_email) for item in owner)
    if isinstance(owner, bool) or not isinstance(owner, str | int | float):
        return False
    text = str(owner).strip()
    if not text:
        return False
    return text.casefold() == expected.casefold() if by_email else text == expected


class Ownership(BaseModel):
    """How an action binds the records it touches to the caller (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    records: tuple[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], ...] = ()
    """The inputs that name the customer's own records (``order_id``): they say *which* record,
    never *whose*, so they are never trusted on their own."""
    owner: str | None = Field(default=None, min_length=1, max_length=500)
    """JMESPath over the answer: who the record belongs to."""
    owner_is: str = "{customer.id}"
    """What ``owner`` must equal: ``{customer.id}``, ``{customer.email}`` or ``{customer.attributes.<name>}``."""
    refused_statuses: tuple[Annotated[int, Field(ge=400, le=499)], ...] = DEFAULT_REFUSED_STATUSES
    """Answers that mean "not this customer's" from a system that was sent the identity."""
    verify_with: Slug | None = None
    """For a write whose system can't be sent the identity: a read action run first on the same
    record inputs; the write is sent only if that read finds the caller as the owner."""

    @field_validator("owner")
    @classmethod
    def _owner_expression(cls, owner: str | None) -> str | None:
        if owner is not None:
            try:
                jmespath.compile(owner)
            except JMESPathError as error:
                raise ValueError(f"'{owner}' is not a valid JMESPath expression: {error}") from error
        return owner

    @field_validator("owner_is")
    @classmethod
    def _owner_is_the_caller(cls, owner_is: str) -> str:
        inner = owner_is[1:-1] if owner_is.startswith("{") and owner_is.endswith("}") else ""
        if not is_caller_placeholder(inner):
            raise ValueError(f"must be one of {CALLER_PLACEHOLDERS_HELP}: the owner is compared with the caller")
        return owner_is

    @property
    def owner_placeholder(self) -> str:
        return self.owner_is[1:-1]

    @property
    def compares_email(self) -> bool:
        return self.owner_placeholder == "customer.email"


def ownership_problem(
    *,
    requires: Requirement | None,
    ownership: Ownership | None,
    inputs: tuple[str, ...],
    writes: bool,
    passes_identity: bool,
) -> str | None:
    """What is wrong with how an action declares whose records it touches, or None. Each message says what to add."""
    send_it = f"send the verified identity ({CALLER_PLACEHOLDERS_HELP} in the url, headers or request)"
    identity_like = sorted(set(inputs) & IDENTITY_LIKE_INPUTS)
    if identity_like:
        return (
            f"input '{{{identity_like[0]}}}' would be filled from the conversation, which the customer types into: "
            f"send the verified caller instead with {CALLER_PLACEHOLDERS_HELP}"
        )
    if requires is None:
        return (
            "requires: say who may run this action: 'verified_customer' when it reads or changes a customer's "
            "records (then also declare 'ownership'), or 'anyone' for data that belongs to no customer "
            "(stock, opening hours)"
        )
    touches = (
        "it changes a customer's records (every write does)"
        if writes
        else "it sends the customer's identity"
        if passes_identity
        else "it declares an ownership rule"
        if ownership is not None
        else None
    )
    if touches is not None and requires is not Requirement.VERIFIED_CUSTOMER:
        return f"requires: must be 'verified_customer' because {touches}: visitors never reach a customer's records"
    if ownership is None:
        if requires is Requirement.VERIFIED_CUSTOMER:
            return (
                "ownership: an action on a customer's records must say how they are checked to be the caller's: "
                f"{send_it} and/or compare the answer's owner (ownership.owner: <JMESPath>)"
            )
        return None
    unknown = [name for name in ownership.records if name not in inputs]
    if unknown:
        return f"ownership.records: '{unknown[0]}' is not an input of this action ({', '.join(inputs) or 'none'})"
    if not (passes_identity or ownership.owner or ownership.verify_with):
        return f"ownership: declares no check: {send_it} and/or map the answer's owner (ownership.owner: <JMESPath>)"
    if ownership.verify_with is not None and not writes:
        return "ownership.verify_with: is for writes; a read checks its own answer's owner (ownership.owner)"
    if writes and not (passes_identity or ownership.verify_with):
        return (
            "ownership: a write's answer arrives after the change is made, so its owner can't guard it: "
            f"{send_it} so the system refuses other customers' records, or check first with "
            "'verify_with: <a read action with ownership.owner>'"
        )
    if ownership.verify_with is not None and not ownership.records:
        return "ownership.records: name the inputs 'verify_with' looks the record up by"
    return None
