"""The API's WAF web ACL: AWS's common rule set, then one rate-based rule per ``helpdesk.surfaces.RATE_LIMITS``.

Each limit becomes a rule answering 429 with ``Retry-After`` and the same body the local gateway sends:

- ``source`` limits count per source IP; scoped to a surface and/or to ``POST`` on one path (visitor
  creation). The path is matched after URL-decoding, path normalization and lower-casing, so
  ``/prod//Messenger/%76isitors`` is still counted as visitor creation.
- ``customer`` limits count per ``Authorization`` header, LOWERCASE'd and COMPRESS_WHITE_SPACE'd:
  ``bearer``/``BEARER``/``Bearer\\t\\t`` are one caller. WAF can't read a JWT, so two valid tokens of one
  customer are two callers here; the authorizer accepts each token in a single spelling only
  (``helpdesk.auth.compact_jwt``), refuses a request carrying two Authorization headers, and the
  per-source rules bound how many tokens one address can mint or use.
"""

from __future__ import annotations

import json
import re

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct
from helpdesk.surfaces import RATE_LIMITS, WAF_EVALUATION_WINDOWS, RateLimit

Statement = wafv2.CfnWebACL.StatementProperty


def _transformations(*kinds: str) -> list[wafv2.CfnWebACL.TextTransformationProperty]:
    return [wafv2.CfnWebACL.TextTransformationProperty(priority=i, type=kind) for i, kind in enumerate(kinds)]


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _uri_path(constraint: str, text: str, *transformations: str) -> Statement:
    return Statement(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint=constraint,
            search_string=text,
            text_transformations=_transformations(*transformations),
        )
    )


def _scope(limit: RateLimit) -> Statement | None:
    """Which requests the limit counts: those to its surface, or only ``POST`` to its path."""
    if limit.path is not None:
        method = Statement(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(method={}),
                positional_constraint="EXACTLY",
                search_string="POST",
                text_transformations=_transformations("UPPERCASE"),
            )
        )
        path = _uri_path("ENDS_WITH", limit.path.lower(), "URL_DECODE", "NORMALIZE_PATH", "LOWERCASE")
        return Statement(and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[path, method]))
    if limit.surface is not None:
        return _uri_path("CONTAINS", f"/{limit.surface}/", "URL_DECODE", "LOWERCASE")
    return None


def _rate_statement(limit: RateLimit) -> Statement:
    if limit.window_seconds not in WAF_EVALUATION_WINDOWS:
        raise ValueError(f"rate limit {limit.name}: WAF counts over {WAF_EVALUATION_WINDOWS} s only")
    keyed: dict[str, object] = {"aggregate_key_type": "IP"}
    if limit.key == "customer":
        header = wafv2.CfnWebACL.RateLimitHeaderProperty(
            name="authorization", text_transformations=_transformations("LOWERCASE", "COMPRESS_WHITE_SPACE")
        )
        keyed = {
            "aggregate_key_type": "CUSTOM_KEYS",
            "custom_keys": [wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(header=header)],
        }
    return Statement(
        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
            limit=limit.requests,
            evaluation_window_sec=limit.window_seconds,
            scope_down_statement=_scope(limit),
            **keyed,  # type: ignore[arg-type]
        )
    )


def rule_name(limit: RateLimit) -> str:
    return "RateLimit" + "".join(part.capitalize() for part in re.split(r"[^a-z0-9]+", limit.name))


def response_body_key(limit: RateLimit) -> str:
    return f"rate-limited-{limit.name}"


def _rate_rule(limit: RateLimit, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    refusal = wafv2.CfnWebACL.CustomResponseProperty(
        response_code=429,
        custom_response_body_key=response_body_key(limit),
        response_headers=[
            wafv2.CfnWebACL.CustomHTTPHeaderProperty(name="Retry-After", value=str(limit.window_seconds))
        ],
    )
    return wafv2.CfnWebACL.RuleProperty(
        name=rule_name(limit),
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block=wafv2.CfnWebACL.BlockActionProperty(custom_response=refusal)),
        statement=_rate_statement(limit),
        visibility_config=_visibility(f"rate-{limit.name}"),
    )


def web_acl(scope: Construct, *, stage_arn: str) -> wafv2.CfnWebACL:
    """The web ACL, attached to the API's stage (created in ``scope``, under the ids it always had)."""
    common = wafv2.CfnWebACL.RuleProperty(
        name="AWSCommonRules",
        priority=0,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=Statement(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
            )
        ),
        visibility_config=_visibility("common-rules"),
    )
    acl = wafv2.CfnWebACL(
        scope,
        "WebAcl",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility("helpdesk-api"),
        custom_response_bodies={
            response_body_key(limit): wafv2.CfnWebACL.CustomResponseBodyProperty(
                content_type="APPLICATION_JSON", content=json.dumps(limit.refusal_body())
            )
            for limit in RATE_LIMITS
        },
        rules=[common, *(_rate_rule(limit, priority) for priority, limit in enumerate(RATE_LIMITS, start=1))],
    )
    wafv2.CfnWebACLAssociation(scope, "WebAclAssociation", resource_arn=stage_arn, web_acl_arn=acl.attr_arn)
    return acl
