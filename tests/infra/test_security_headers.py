"""The synthesized distribution and API carry the declared security headers, not CloudFront's managed set.

CloudFront's managed SECURITY_HEADERS policy sends X-Frame-Options: SAMEORIGIN, which would block the
embed on the business's site, and no Content-Security-Policy. The pages get two custom policies made
from ``helpdesk.security_headers``: the messenger (framed by the workspace's ``messenger_origins``)
and the inbox (never framed).
"""

from __future__ import annotations

from typing import Any

from helpdesk.security_headers import HSTS_MAX_AGE_SECONDS, PERMISSIONS_POLICY, gateway_answer_headers

from tests.infra.conftest import Assembly

MANAGED_SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"


def rendered(value: Any) -> str:
    """A CloudFormation string value as text, with ``${Ref}`` / ``${Resource.Attribute}`` for what AWS fills in."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(rendered(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return "${Import:" + rendered(value["Fn::ImportValue"]) + "}"
    return str(value)


def policies(assembly: Assembly) -> dict[str, dict[str, Any]]:
    """The response-headers policies by logical id."""
    found = assembly.resources("AWS::CloudFront::ResponseHeadersPolicy")
    return {
        key.split("/", 1)[1]: resource["Properties"]["ResponseHeadersPolicyConfig"] for key, resource in found.items()
    }


def policy_of(assembly: Assembly, behavior: dict[str, Any]) -> dict[str, Any]:
    reference = behavior["ResponseHeadersPolicyId"]
    assert reference != MANAGED_SECURITY_HEADERS_POLICY, "the managed policy would block the cross-origin embed"
    return policies(assembly)[reference["Ref"]]


def directives(config: dict[str, Any]) -> dict[str, str]:
    csp = rendered(config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    return {part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2] for part in csp.split(";")}


def distribution(assembly: Assembly) -> dict[str, Any]:
    [pages] = assembly.resources("AWS::CloudFront::Distribution").values()
    return dict(pages["Properties"]["DistributionConfig"])


def test_the_messenger_page_may_be_framed_only_by_the_workspace_origins_and_runs_no_inline_script(
    assembly: Assembly,
) -> None:
    config = policy_of(assembly, distribution(assembly)["DefaultCacheBehavior"])
    csp = directives(config)

    assert csp["frame-ancestors"] == "'self'"  # the demo workspace's messenger_origins: [self]
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["default-src"] == "'none'"
    assert "RestApi" in csp["connect-src"], csp["connect-src"]
    assert "-attachments-" in csp["connect-src"], csp["connect-src"]
    assert "FrameOptions" not in config["SecurityHeadersConfig"], "X-Frame-Options can't name the shop's origin"


def test_the_inbox_is_never_framed_and_calls_only_the_api_the_sign_in_domain_and_the_files(
    assembly: Assembly,
) -> None:
    [inbox] = [b for b in distribution(assembly)["CacheBehaviors"] if b["PathPattern"] == "/inbox/*"]
    config = policy_of(assembly, inbox)
    csp = directives(config)

    assert inbox["ViewerProtocolPolicy"] == "redirect-to-https"
    assert csp["frame-ancestors"] == "'none'"
    assert config["SecurityHeadersConfig"]["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert csp["script-src"] == "'self'"
    assert "RestApi" in csp["connect-src"], csp["connect-src"]
    assert "amazoncognito" in csp["connect-src"], csp["connect-src"]
    assert "-attachments-" in csp["connect-src"], "the composer uploads the agents' files to the bucket"


def test_both_pages_get_nosniff_referrer_policy_hsts_and_permissions_policy(assembly: Assembly) -> None:
    assert len(policies(assembly)) == 2
    for config in policies(assembly).values():
        security = config["SecurityHeadersConfig"]
        assert security["ContentTypeOptions"] == {"Override": True}
        assert security["ReferrerPolicy"] == {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True}
        assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == HSTS_MAX_AGE_SECONDS
        assert security["StrictTransportSecurity"]["IncludeSubdomains"] is True
        assert security["ContentSecurityPolicy"]["Override"] is True
        [custom] = config["CustomHeadersConfig"]["Items"]
        assert custom == {"Header": "Permissions-Policy", "Value": PERMISSIONS_POLICY, "Override": True}


def test_api_gateways_own_answers_carry_the_security_headers(assembly: Assembly) -> None:
    responses = assembly.resources("AWS::ApiGateway::GatewayResponse").values()

    for response in responses:
        parameters = response["Properties"]["ResponseParameters"]
        for name, value in gateway_answer_headers().items():
            assert parameters[f"gatewayresponse.header.{name}"] == f"'{value}'", name
