"""Secrets from Secrets Manager: the workspace's messenger secret and the email key (cached a few
minutes per container, so a rotated value is picked up without a deployment)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

SECRET_CACHE_SECONDS = 300


def read_secret(secret_arn: str) -> str:
    secret = parameters.get_secret(secret_arn, max_age=SECRET_CACHE_SECONDS)
    return secret if isinstance(secret, str) else secret.decode()


def read_messenger_secret(secret_arn: str) -> str:
    return read_secret(secret_arn)
