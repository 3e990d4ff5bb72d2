"""Calls custom actions over HTTP with urllib3 (shipped with the Lambda runtime, via botocore).

Retries use urllib3's ``Retry``: exponential backoff (``backoff_factor * 2**n``) with jitter, capped
at ``backoff_max`` per wait, honouring ``Retry-After`` (capped the same way). What is retried:

- connection failures (refused, connect timeout): always, the request never reached the system;
- read timeouts, dropped connections and 429/5xx answers: for GET, and for writes only when an
  idempotency key is sent (the system then applies a retried write once).

Time bound: each attempt is limited to ``timeout_seconds`` (urllib3 ``Timeout(total=...)``; a system
that trickles bytes can stretch one attempt a little past it), so one call takes at most about
``timeout_seconds * (retries + 1) + backoff_max * retries`` (see ``worst_case_seconds``). With the
defaults (5 s, 2 retries, 2 s cap) that is 19 s: set the calling function's timeout above it.

Secrets come from Secrets Manager or SSM through powertools parameters, cached per container; they
are sent in a header and never logged or returned (an error text that echoes one is redacted).

Ownership (``helpdesk.domain.action_ownership``): an action that requires a signed-in customer is
not called for a visitor (``sign_in_required``); ``{customer.…}`` placeholders are filled from the
verified caller the bot passes; an answer in ``ownership.refused_statuses``, or whose owner isn't
the caller (or is missing), is ``not_on_account`` with nothing of it kept; a write with
``ownership.verify_with`` is sent only after that read found the caller as the owner.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

import jmespath
import urllib3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from jmespath.exceptions import JMESPathError
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from helpdesk.domain.action_ownership import NOT_ON_ACCOUNT, ActionCaller, owned_by
from helpdesk.domain.actions import (
    ERROR_TEXT_LIMIT,
    ActionConfigurationError,
    ActionOutcome,
    ActionResult,
    CustomAction,
    SecretRef,
    resolve_environment,
)

__all__ = ["ActionResult", "CustomActionClient", "read_secret"]

logger = logging.getLogger(__name__)

SECRET_CACHE_SECONDS = 300
BACKOFF_FACTOR = 0.25
BACKOFF_MAX = 2.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "helpdesk-custom-actions/1"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

_failed_attempts: ContextVar[int] = ContextVar("custom_action_failed_attempts", default=0)


class _JitteredRetry(Retry):
    """urllib3's Retry with full-range jitter and a cap on every wait, including ``Retry-After``.

    Class attributes, not arguments, so they survive ``Retry.new`` (and work on urllib3 1.26 and 2.x).
    """

    BACKOFF_CAP = BACKOFF_MAX

    def get_backoff_time(self) -> float:
        base = super().get_backoff_time()
        if base <= 0:
            return 0.0
        return float(min(self.BACKOFF_CAP, random.uniform(base / 2, base * 1.5)))  # noqa: S311 - jitter, not crypto

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(float(after), self.BACKOFF_CAP)

    def increment(self, *args: Any, **kwargs: Any) -> Retry:  # type: ignore[override]
        # One increment per attempt that got no usable answer; a call that ends in an exception reports this count.
        _failed_attempts.set(_failed_attempts.get() + 1)
        return super().increment(*args, **kwargs)


def read_secret(ref: SecretRef, environ: Mapping[str, str] | None = None) -> str:
    """The secret's value (one field of it if ``key`` is set), cached for ``SECRET_CACHE_SECONDS``."""
    name = resolve_environment(ref.name, os.environ if environ is None else environ)
    try:
        if ref.source == "secretsmanager":
            value: Any = parameters.get_secret(name, max_age=SECRET_CACHE_SECONDS)
        else:
            value = parameters.get_parameter(name, decrypt=True, max_age=SECRET_CACHE_SECONDS)
    except (GetParameterError, TransformParameterError) as error:
        raise ActionConfigurationError(
            f"{ref.source} secret '{name}' can't be read ({type(error).__name__})"
        ) from error
    if isinstance(value, bytes):
        value = value.decode()
    if ref.key is not None:
        try:
            document = json.loads(value)
        except ValueError as error:
            raise ActionConfigurationError(
                f"secret '{name}' is not a JSON object, so it has no key '{ref.key}'"
            ) from error
        value = document.get(ref.key) if isinstance(document, dict) else None
        if not isinstance(value, str) or not value:
            raise ActionConfigurationError(f"secret '{name}' has no text field '{ref.key}'")
    if not isinstance(value, str) or not value:
        raise ActionConfigurationError(f"secret '{name}' is empty")
    return value


class CustomActionClient:
    """Calls ``CustomAction``s; one per container is enough (it keeps a connection pool)."""

    def __init__(
        self,
        *,
        secrets: Callable[[SecretRef], str] | None = None,
        environ: Mapping[str, str] | None = None,
        pool: urllib3.PoolManager | None = None,
        backoff_factor: float = BACKOFF_FACTOR,
    ) -> None:
        self._secrets = secrets or (lambda ref: read_secret(ref, self._environ))
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._pool = pool
        self._backoff_factor = backoff_factor

    @staticmethod
    def worst_case_seconds(action: CustomAction) -> float:
        """About the longest one ``call`` can take: every attempt timing out, every wait at its cap."""
        return action.timeout_seconds * (action.retries + 1) + _JitteredRetry.BACKOFF_CAP * action.retries

    def call(
        self,
        action: CustomAction,
        inputs: Mapping[str, Any],
        *,
        caller: ActionCaller | None,
        idempotency_key: str | None,
    ) -> ActionResult:
        """Calls the action for ``caller`` (the verified customer, or None when there is nobody to act for).

        Remote failures come back as the result's ``outcome``, never as exceptions. Raises ``ValueError``
        for inputs the action can't be called with (naming the missing input) or an identity the caller's
        token doesn't carry, and ``ActionConfigurationError`` (a ``ValueError``) for an unset environment
        variable or unreadable secret.
        """
        if action.requires_signed_in_customer and (caller is None or not caller.signed_in):
            return _not_called(action, ActionOutcome.SIGN_IN_REQUIRED, "needs a signed-in customer")
        owner_is = None
        if action.ownership is not None and action.ownership.owner is not None:
            assert caller is not None  # an ownership rule comes with requires: verified_customer
            owner_is = caller.identity(action.ownership.owner_placeholder)
        url = action.render_url(inputs, self._environ, caller)
        body = action.render_body(inputs, caller)
        if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise ValueError("idempotency_key must be 1-255 printable ASCII characters without spaces")
        try:
            payload = None if body is None else json.dumps(body).encode()
        except (TypeError, ValueError) as error:
            raise ValueError(f"action '{action.id}': inputs must be JSON values: {error}") from error

        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        headers |= action.render_headers(self._environ, caller)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        secret = None
        if action.auth is not None:
            secret = self._secrets(action.auth.secret)
            headers[action.auth.header_name] = action.auth.header_value(secret)
        send_key = action.writes and idempotency_key is not None
        if send_key:
            headers[action.idempotency_header] = idempotency_key  # type: ignore[assignment]
        retry_after_sending = not action.writes or send_key

        retries = _JitteredRetry(
            total=action.retries,
            connect=action.retries,
            read=action.retries if retry_after_sending else 0,
            status=action.retries if retry_after_sending else 0,
            other=0,
            redirect=False,
            # Once a request was sent, only these methods are sent again (a connection failure is always retried).
            allowed_methods=frozenset({"GET", action.method.value}) if retry_after_sending else frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self._backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        started = time.monotonic()
        counter = _failed_attempts.set(0)
        try:
            response = self._http().request(
                action.method.value,
                url,
                body=payload,
                headers=headers,
                retries=retries,
                redirect=False,
                timeout=urllib3.Timeout(total=action.timeout_seconds),
            )
            attempts = len(response.retries.history) + 1 if response.retries is not None else 1
            result = _interpret(action, response.status, response.data, attempts, started, secret, owner_is)
        except HTTPError as error:
            result = _failure(action, error, _failed_attempts.get(), started)
        finally:
            _failed_attempts.reset(counter)

        log = logger.info if result.succeeded else logger.warning
        log(
            "custom action %s: %s (HTTP %s, %d attempt(s), %d ms)%s",
            action.id,
            result.outcome.value,
            result.status,
            result.attempts,
            result.duration_ms,
            f": {result.error}" if result.error else "",
        )
        return result

    def _http(self) -> urllib3.PoolManager:
        if self._pool is None:
            self._pool = urllib3.PoolManager(num_pools=10, maxsize=4)
        return self._pool


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _snippet(raw: bytes | str, secret: str | None) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = " ".join(text.split())
    if secret:
        text = text.replace(secret, "***")
    return text if len(text) <= ERROR_TEXT_LIMIT else text[: ERROR_TEXT_LIMIT - 1] + "…"


def _interpret(
    action: CustomAction,
    status: int,
    raw: bytes,
    attempts: int,
    started: float,
    secret: str | None,
    owner_is: str | None,
) -> ActionResult:
    """The answer as a result; ``owner_is``: the verified identity the answer's owner must equal."""

    def result(outcome: ActionOutcome, error: str | None = None, outputs: dict[str, Any] | None = None) -> ActionResult:
        return ActionResult(
            action_id=action.id,
            outcome=outcome,
            status=status,
            outputs=outputs or {},
            attempts=attempts,
            duration_ms=_elapsed_ms(started),
            error=error,
        )

    def not_on_account() -> ActionResult:
        # Whether the system refused the record or answered with someone else's, it looks the same.
        return result(ActionOutcome.NOT_ON_ACCOUNT, NOT_ON_ACCOUNT).model_copy(update={"status": None})

    ownership = action.ownership
    if ownership is not None and status in ownership.refused_statuses:
        return not_on_account()
    if status not in action.success.statuses:
        return result(ActionOutcome.FAILED, _snippet(f"HTTP {status}: {_snippet(raw, secret) or '(no body)'}", None))
    needs_document = bool(action.response) or action.success.expression is not None or owner_is is not None
    if not raw.strip():
        if needs_document:
            return result(ActionOutcome.INVALID_RESPONSE, f"HTTP {status} with an empty body; expected JSON")
        return result(ActionOutcome.SUCCESS)
    try:
        document = json.loads(raw)
    except ValueError:
        # An answer about a record not yet known to be the caller's is never echoed.
        echoed = "" if owner_is is not None else f": {_snippet(raw, secret)}"
        return result(ActionOutcome.INVALID_RESPONSE, _snippet(f"answer is not JSON{echoed}", None))
    if owner_is is not None and not _owned(action, document, owner_is):
        return not_on_account()
    try:
        if action.success.expression is not None and not jmespath.search(action.success.expression, document):
            return result(ActionOutcome.FAILED, f"HTTP {status}, but '{action.success.expression}' is not true")
        outputs = {name: jmespath.search(expression, document) for name, expression in action.response.items()}
    except JMESPathError as error:
        return result(ActionOutcome.INVALID_RESPONSE, _snippet(f"the response mapping failed: {error}", secret))
    return result(ActionOutcome.SUCCESS, outputs=outputs)


def _owned(action: CustomAction, document: Any, owner_is: str) -> bool:
    ownership = action.ownership
    assert ownership is not None
    assert ownership.owner is not None
    try:
        owner = jmespath.search(ownership.owner, document)
    except JMESPathError:
        return False  # an answer whose owner can't be read has no owner
    return owned_by(owner, owner_is, by_email=ownership.compares_email)


def _not_called(action: CustomAction, outcome: ActionOutcome, why: str) -> ActionResult:
    return ActionResult(action_id=action.id, outcome=outcome, attempts=0, duration_ms=0, error=why)


def _failure(action: CustomAction, error: HTTPError, attempts: int, started: float) -> ActionResult:
    reason = error.reason if isinstance(error, MaxRetryError) and error.reason is not None else error
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2, so it is checked first.
    if isinstance(reason, NewConnectionError):
        outcome, text = ActionOutcome.UNREACHABLE, "connection refused or host not found"
    elif isinstance(reason, Urllib3Timeout):
        outcome, text = ActionOutcome.TIMEOUT, f"no answer within {action.timeout_seconds:g} s"
    elif isinstance(reason, ProtocolError):
        outcome, text = ActionOutcome.UNREACHABLE, "the connection was closed without an answer"
    elif isinstance(reason, SSLError):
        outcome, text = ActionOutcome.UNREACHABLE, "TLS handshake failed"
    else:
        outcome, text = ActionOutcome.UNREACHABLE, type(reason).__name__
    return ActionResult(
        action_id=action.id,
        outcome=outcome,
        status=None,
        attempts=max(attempts, 1),
        duration_ms=_elapsed_ms(started),
        error=text,
    )


class CustomActionRunner:
    """The bot's door to the declared custom actions: by id, through one client (one connection pool)."""

    def __init__(
        self,
        actions: Iterable[CustomAction],
        client: CustomActionClient | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._actions = {action.id: action for action in actions}
        self._client = client or CustomActionClient(environ=environ)

    def _action(self, action_id: str) -> CustomAction:
        action = self._actions.get(action_id)
        if action is None:
            raise ActionConfigurationError(f"custom action '{action_id}' is not declared")
        return action

    def requires_signed_in_customer(self, action_id: str) -> bool:
        return self._action(action_id).requires_signed_in_customer

    def run(
        self, action_id: str, inputs: dict[str, Any], *, caller: ActionCaller | None, idempotency_key: str | None
    ) -> ActionResult:
        """Runs the action for ``caller``; a write with ``ownership.verify_with`` runs that read first."""
        action = self._action(action_id)
        check_id = action.ownership.verify_with if action.ownership else None
        checked = None
        if check_id is not None and caller is not None and caller.signed_in:
            check = self._action(check_id)
            record = {name: inputs.get(name) for name in check.inputs}
            checked = self._client.call(check, record, caller=caller, idempotency_key=None)
            if not checked.succeeded:
                refused = checked.outcome is ActionOutcome.NOT_ON_ACCOUNT
                error = checked.error if refused else f"{check_id}: {checked.error}"
                return checked.model_copy(update={"action_id": action.id, "error": error})
        key = idempotency_key if action.writes else None
        result = self._client.call(action, inputs, caller=caller, idempotency_key=key)
        if checked is not None:
            result = result.model_copy(update={"duration_ms": result.duration_ms + checked.duration_ms})
        return result
