"""Secrets from Secrets Manager: the workspace's messenger secret and the email key (cached a few
minutes per container, so a rotated value is picked up without a deployment)."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities import parameters

SECRET_CACHE_SECONDS = 300


def read_secret(arn: str) -> str:
    secret = parameters.get_secret(arn, max_age=SECRET_CACHE_SECONDS)
    return secret if isinstance(secret, str) else secret.decode()


def messenger_secret() -> str:
    return read_secret(os.environ["MESSENGER_SECRET_ARN"])
