"""The workspace's messenger secret, from Secrets Manager (cached for a few minutes per container)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

SECRET_CACHE_SECONDS = 300


def read_messenger_secret(secret_arn: str) -> str:
    secret = parameters.get_secret(secret_arn, max_age=SECRET_CACHE_SECONDS)
    return secret if isinstance(secret, str) else secret.decode()
