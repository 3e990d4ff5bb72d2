"""How agents sign in to the inbox page: a Cognito app client of the data stack's user pool.

The user pool itself (agents, one group per team, ``admins``) lives in the data stack; this client
belongs to the page, so it lives with the page: the authorization-code flow (no client secret in a
browser), redirecting back to the inbox page, with hour-long ID and access tokens and a day-long
refresh token.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

TOKEN_VALIDITY = Duration.hours(1)
REFRESH_VALIDITY = Duration.days(1)


class InboxSignIn(Construct):
    """``client`` is the inbox page's app client; ``page_config`` is what the page needs to sign agents in."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.IUserPool,
        user_pool_domain: cognito.UserPoolDomain,
        inbox_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._domain = user_pool_domain
        self._inbox_url = inbox_url
        self.client = cognito.UserPoolClient(
            self,
            "InboxPageClient",
            user_pool=user_pool,
            generate_secret=False,
            prevent_user_existence_errors=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[inbox_url],
                logout_urls=[inbox_url],
            ),
            id_token_validity=TOKEN_VALIDITY,
            access_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_VALIDITY,
        )

    @property
    def page_config(self) -> dict[str, str]:
        return {
            "sign_in": "cognito",
            "cognito_domain": self._domain.base_url(),
            "client_id": self.client.user_pool_client_id,
            "redirect_uri": self._inbox_url,
        }
