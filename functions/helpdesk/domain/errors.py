"""Domain exceptions. ``helpdesk.api.errors`` maps each to an HTTP status, in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the services raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The object doesn't exist, or the caller may not know it does (same answer, on purpose)."""


class Forbidden(DomainError):
    """The caller is known and may see the object but may not do this to it."""


class InvalidInput(DomainError):
    """Input is well-formed but breaks a rule; ``problems`` are ``(field, message)`` pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class BadQuery(InvalidInput):
    """A query parameter missing or out of its bounds (the request can't be answered at all): a 400."""


class VersionConflict(DomainError):
    """An update was based on a version that is no longer current."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class Conflict(DomainError):
    """The request contradicts the object's current state (e.g. converting a conversation twice)."""


class Unauthenticated(DomainError):
    """The request carries no identity the API can trust."""


class ConditionFailed(Exception):
    """A guarded write found its item not in the expected state (raised by the stores, read by services).

    Not a ``DomainError``: the service that attempted the write knows what it means (a conflict, a
    missing object, a retry) and says so; one that escapes is a bug.
    """


class TicketNumberTaken(ConditionFailed):
    """A new ticket's number was given to another ticket first: read the counter again and retry."""


class Gone(DomainError):
    """It was here once and isn't any more (a link used or expired); ``field`` names what, and
    ``renewable`` says the caller may ask for a fresh one."""

    def __init__(self, message: str, *, code: str, field: str, renewable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.renewable = renewable
