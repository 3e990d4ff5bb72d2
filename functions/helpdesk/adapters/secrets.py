"""The workspace's messenger secret, from Secrets Manager (cached for a few minutes per container)."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities import parameters

SECRET_CACHE_SECONDS = 300


def messenger_secret() -> str:
    secret = parameters.get_secret(os.environ["MESSENGER_SECRET_ARN"], max_age=SECRET_CACHE_SECONDS)
    return secret if isinstance(secret, str) else secret.decode()
