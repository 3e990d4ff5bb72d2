"""Custom actions: configured HTTP calls to the business's own systems ("where is my order?").

One action per file, ``actions/<id>.yaml`` in the workspace. Templates:

- ``{name}`` in ``url`` and in string values of ``request`` is filled from the action's input when it
  is called; in the URL the value is URL-encoded, and a ``request`` value that is exactly
  ``"{name}"`` keeps the input's JSON type (number, boolean, list...).
- ``${VAR}`` / ``${VAR:-default}`` in ``url`` and in ``auth.secret.name`` is read from the
  environment at call time, so one file works locally (``ORDERS_API_URL=http://127.0.0.1:...``)
  and in AWS (the function's environment).

``response`` maps output names to JMESPath expressions over the JSON the system answers with, and
``success`` says which answers count as success (HTTP statuses, optionally a JMESPath expression
that must be truthy).

Every action says who may run it (``requires``). One that reads or changes a customer's records
(every write does) requires a signed-in customer and declares its ``ownership`` rule
(``helpdesk.domain.action_ownership``): ``{customer.id}``-style placeholders, filled only from the
caller's verified token, send the identity in the url, a ``headers`` value or the request, and/or
``ownership.owner`` compares the answer's owner with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import quote

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from helpdesk.domain.action_ownership import (
    CALLER_PLACEHOLDERS_HELP,
    ActionCaller,
    Ownership,
    Requirement,
    is_caller_placeholder,
    ownership_problem,
)
from helpdesk.domain.bot import Slug

MAX_TIMEOUT_SECONDS = 30
MAX_RETRIES = 5
ERROR_TEXT_LIMIT = 200

_ENV_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# An input placeholder: ``{name}`` not preceded by ``$`` (that one is an environment variable).
_INPUT_PLACEHOLDER = re.compile(r"(?<!\$)\{([^{}]*)\}")
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
HeaderName = Annotated[str, Field(pattern=_HEADER_NAME, max_length=100)]

Json = Any


class ActionConfigurationError(ValueError):
    """The action can't be called as configured or deployed (an unset environment variable, a missing secret)."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


def _input_names(template: str) -> list[str]:
    """The ``{name}`` inputs a template needs (``{customer.…}`` is the verified caller, not an input)."""
    names = []
    for match in _INPUT_PLACEHOLDER.finditer(template):
        name = match.group(1)
        if is_caller_placeholder(name):
            continue
        if name.startswith("customer."):
            raise ValueError(f"'{{{name}}}' is not a verified identity: use {CALLER_PLACEHOLDERS_HELP}")
        if not _INPUT_NAME.match(name):
            raise ValueError(f"'{{{name}}}' is not a valid input placeholder: use letters, digits and '_'")
        names.append(name)
    return names


def _caller_names(template: str) -> list[str]:
    return [m.group(1) for m in _INPUT_PLACEHOLDER.finditer(template) if is_caller_placeholder(m.group(1))]


def _template_strings(value: Json) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _template_strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _template_strings(item)]
    return []


def _compile_jmespath(expression: str) -> None:
    try:
        jmespath.compile(expression)
    except JMESPathError as error:
        raise ValueError(f"'{expression}' is not a valid JMESPath expression: {error}") from error


def resolve_environment(template: str, environ: Mapping[str, str]) -> str:
    """Replaces ``${VAR}`` / ``${VAR:-default}`` with the environment's value; unset and no default is an error."""

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name)
        if found:
            return found
        if default is not None:
            return default
        raise ActionConfigurationError(f"environment variable {name} is not set (used in '{template}')")

    return _ENV_PLACEHOLDER.sub(value, template)


class SecretRef(_Config):
    source: Literal["secretsmanager", "ssm"]
    name: str = Field(min_length=1, max_length=2048, description="secret name/ARN or parameter name; may use ${VAR}")
    key: str | None = Field(default=None, min_length=1, description="the field to use if the secret is a JSON object")


class ActionAuth(_Config):
    """How the action authenticates: ``bearer`` sends ``Authorization: Bearer <secret>``, ``header`` sends
    ``<header>: <secret>``."""

    type: Literal["bearer", "header"]
    secret: SecretRef
    header: Annotated[str, Field(pattern=_HEADER_NAME, max_length=100)] | None = None

    @model_validator(mode="after")
    def _header_for_header_auth(self) -> ActionAuth:
        if self.type == "header" and self.header is None:
            raise ValueError("auth of type 'header' needs 'header', the header name to send the secret in")
        if self.type == "bearer" and self.header not in (None, "Authorization"):
            raise ValueError("bearer auth is sent in 'Authorization'; use type 'header' for another header")
        return self

    @property
    def header_name(self) -> str:
        return self.header or "Authorization"

    def header_value(self, secret: str) -> str:
        return f"Bearer {secret}" if self.type == "bearer" else secret


class SuccessRule(_Config):
    statuses: tuple[Annotated[int, Field(ge=100, le=599)], ...] = tuple(range(200, 300))
    expression: str | None = Field(default=None, description="JMESPath over the JSON answer that must be truthy")

    @field_validator("statuses")
    @classmethod
    def _some_statuses(cls, statuses: tuple[int, ...]) -> tuple[int, ...]:
        if not statuses:
            raise ValueError("list at least one HTTP status that means success")
        return statuses

    @field_validator("expression")
    @classmethod
    def _valid_expression(cls, expression: str | None) -> str | None:
        if expression is not None:
            _compile_jmespath(expression)
        return expression


class CustomAction(_Config):
    id: Slug
    description: str = Field(min_length=1, max_length=500, description="what the action does, for the bot and people")
    method: HttpMethod
    url: str = Field(min_length=1, max_length=2048)
    requires: Requirement | None = None
    """Who may run it: ``verified_customer`` or ``anyone`` (stated in every file, so none is left open by mistake)."""
    ownership: Ownership | None = None
    """How the records it touches are bound to the caller; required with ``requires: verified_customer``."""
    auth: ActionAuth | None = None
    headers: dict[HeaderName, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, description="extra request headers: text, ${VAR} and {customer.…} placeholders"
    )
    timeout_seconds: float = Field(default=5, gt=0, le=MAX_TIMEOUT_SECONDS, description="per attempt")
    retries: int = Field(default=2, ge=0, le=MAX_RETRIES)
    idempotency_header: Annotated[str, Field(pattern=_HEADER_NAME, max_length=100)] = "Idempotency-Key"
    request: dict[str, Json] | None = Field(default=None, description="JSON body template (not for GET)")
    response: dict[Annotated[str, Field(pattern=_INPUT_NAME.pattern)], str] = Field(default_factory=dict)
    success: SuccessRule = SuccessRule()
    profile: bool = False
    """Shown on the customer's profile in the inbox, run on demand by an agent as that customer (their
    verified identity only): a read (GET) that needs no input but the customer (e.g. their recent
    orders), or whose inputs the agent gives."""

    @field_validator("url")
    @classmethod
    def _url_template(cls, url: str) -> str:
        if not (url.startswith(("http://", "https://", "${"))):
            raise ValueError("must start with http://, https:// or a ${VARIABLE} holding the base URL")
        _input_names(url)
        return url

    @field_validator("request")
    @classmethod
    def _request_template(cls, request: dict[str, Json] | None) -> dict[str, Json] | None:
        for template in _template_strings(request):
            _input_names(template)
        return request

    @field_validator("response")
    @classmethod
    def _response_expressions(cls, response: dict[str, str]) -> dict[str, str]:
        for name, expression in response.items():
            try:
                _compile_jmespath(expression)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from error
        return response

    @field_validator("headers")
    @classmethod
    def _header_templates(cls, headers: dict[str, str]) -> dict[str, str]:
        reserved = {"accept", "content-type", "user-agent", "host", "content-length"}
        for name, template in headers.items():
            if name.lower() in reserved:
                raise ValueError(f"{name}: is set by the action client itself")
            if _input_names(template):
                raise ValueError(f"{name}: headers may hold text, ${{VARIABLE}} and {CALLER_PLACEHOLDERS_HELP} only")
        return headers

    @model_validator(mode="after")
    def _no_body_on_get(self) -> CustomAction:
        if self.method is HttpMethod.GET and self.request is not None:
            raise ValueError("a GET action can't have a 'request' body; put its inputs in the url")
        return self

    @model_validator(mode="after")
    def _profile_actions_only_read(self) -> CustomAction:
        if self.profile and self.writes:
            raise ValueError(
                "profile: only a read (GET) is shown on the customer's profile; an agent changes a customer's "
                "records through the conversation, where the customer confirms"
            )
        if self.profile and not self.passes_identity and (self.ownership is None or self.ownership.owner is None):
            raise ValueError(
                "profile: a profile action runs as the customer, so it must send the verified identity "
                f"({CALLER_PLACEHOLDERS_HELP}) or compare the answer's owner (ownership.owner)"
            )
        return self

    @model_validator(mode="after")
    def _headers_dont_collide(self) -> CustomAction:
        sent = {name.lower() for name in self.headers}
        if self.auth is not None and self.auth.header_name.lower() in sent:
            raise ValueError(f"headers: {self.auth.header_name} already carries the auth secret")
        if self.writes and self.idempotency_header.lower() in sent:
            raise ValueError(f"headers: {self.idempotency_header} already carries the idempotency key")
        return self

    @model_validator(mode="after")
    def _ownership_rules(self) -> CustomAction:
        """The rules that keep a customer's records the customer's own; the message says what to add."""
        problem = ownership_problem(
            requires=self.requires,
            ownership=self.ownership,
            inputs=self.inputs,
            writes=self.writes,
            passes_identity=self.passes_identity,
        )
        if problem is not None:
            # Its own error type: the message already names the field, without pydantic's "Value error, ".
            raise PydanticCustomError("ownership_rule", problem)
        return self

    @property
    def passes_identity(self) -> bool:
        """Whether the verified caller is sent: a ``{customer.…}`` placeholder in the url, headers or request."""
        templates = [self.url, *self.headers.values(), *_template_strings(self.request)]
        return any(_caller_names(template) for template in templates)

    @property
    def requires_signed_in_customer(self) -> bool:
        return self.requires is Requirement.VERIFIED_CUSTOMER

    @property
    def inputs(self) -> tuple[str, ...]:
        """The inputs the action needs, in the order they first appear in the url and the request."""
        names = _input_names(self.url)
        for template in _template_strings(self.request):
            names += _input_names(template)
        return tuple(dict.fromkeys(names))

    @property
    def writes(self) -> bool:
        return self.method is not HttpMethod.GET

    def missing_inputs(self, inputs: Mapping[str, Json]) -> list[str]:
        return [name for name in self.inputs if inputs.get(name) is None]

    def _check_inputs(self, inputs: Mapping[str, Json]) -> None:
        missing = self.missing_inputs(inputs)
        if missing:
            raise ValueError(f"action '{self.id}': missing input(s): {', '.join(missing)}")

    def render_url(
        self, inputs: Mapping[str, Json], environ: Mapping[str, str], caller: ActionCaller | None = None
    ) -> str:
        """The URL to call: environment variables resolved, inputs and the caller URL-encoded in their places."""
        self._check_inputs(inputs)

        def encoded(match: re.Match[str]) -> str:
            name = match.group(1)
            if is_caller_placeholder(name):
                return quote(_identity(caller, name), safe="")
            value = inputs[name]
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ValueError(
                    f"action '{self.id}': input '{name}' goes into the URL, so it must be text or a number"
                )
            return quote(str(value), safe="")

        with_inputs = _INPUT_PLACEHOLDER.sub(encoded, self.url)
        return resolve_environment(with_inputs, environ)

    def render_body(self, inputs: Mapping[str, Json], caller: ActionCaller | None = None) -> dict[str, Json] | None:
        """The JSON body to send: ``"{name}"`` alone keeps the input's type, inside text it is written as text."""
        if self.request is None:
            return None
        self._check_inputs(inputs)

        def value(name: str) -> Json:
            return _identity(caller, name) if is_caller_placeholder(name) else inputs[name]

        def fill(template: Json) -> Json:
            if isinstance(template, str):
                whole = _INPUT_PLACEHOLDER.fullmatch(template)
                if whole is not None:
                    return value(whole.group(1))
                return _INPUT_PLACEHOLDER.sub(lambda match: str(value(match.group(1))), template)
            if isinstance(template, Mapping):
                return {key: fill(item) for key, item in template.items()}
            if isinstance(template, list | tuple):
                return [fill(item) for item in template]
            return template

        body = fill(self.request)
        assert isinstance(body, dict)
        return body

    def render_headers(self, environ: Mapping[str, str], caller: ActionCaller | None = None) -> dict[str, str]:
        """The extra headers: environment variables resolved, the verified caller filled in."""

        def filled(template: str) -> str:
            with_caller = _INPUT_PLACEHOLDER.sub(lambda match: _identity(caller, match.group(1)), template)
            return resolve_environment(with_caller, environ)

        return {name: filled(template) for name, template in self.headers.items()}


def _identity(caller: ActionCaller | None, placeholder: str) -> str:
    if caller is None:
        raise ValueError(f"{{{placeholder}}} needs the verified caller, and none was given")
    return caller.identity(placeholder)


def ownership_references(actions: Mapping[str, CustomAction]) -> dict[str, str]:
    """Problems with ``ownership.verify_with`` across actions, by the id of the action whose file has them."""
    problems: dict[str, str] = {}
    for action in actions.values():
        ownership = action.ownership
        if ownership is None or ownership.verify_with is None:
            continue
        check = actions.get(ownership.verify_with)
        where = f"ownership.verify_with: '{ownership.verify_with}'"
        if check is None:
            problems[action.id] = f"{where} is not a declared action"
        elif check.writes or check.ownership is None or check.ownership.owner is None:
            problems[action.id] = f"{where} must be a read (GET) action with ownership.owner, which names the owner"
        elif missing := [name for name in check.inputs if name not in ownership.records]:
            problems[action.id] = f"{where} needs input(s) {', '.join(missing)}: list them in ownership.records"
    return problems


class ActionOutcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    """The system answered, but not with success (a status not in ``success.statuses``, or the expression falsy)."""
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    """No answer: the connection was refused, or closed without an answer."""
    INVALID_RESPONSE = "invalid_response"
    """A success status, but the answer is not JSON or the ``response`` mapping can't be applied to it."""
    SIGN_IN_REQUIRED = "sign_in_required"
    """Not called: the action needs a signed-in customer and the caller is an anonymous visitor."""
    NOT_ON_ACCOUNT = "not_on_account"
    """The record isn't the caller's (refused, another owner, or no owner): nothing of the answer is kept."""


class ActionResult(BaseModel):
    """What calling a custom action did. Never holds secrets; ``error`` is short text for logs and agents."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    outcome: ActionOutcome
    status: int | None = None
    outputs: dict[str, Json] = Field(default_factory=dict)
    attempts: int = Field(ge=0)
    duration_ms: int = Field(ge=0)
    error: str | None = Field(default=None, max_length=ERROR_TEXT_LIMIT + 100)

    @property
    def succeeded(self) -> bool:
        return self.outcome is ActionOutcome.SUCCESS
