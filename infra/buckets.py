"""The private buckets' common settings, in one place: S3-managed encryption, no public access, TLS
only, and every access logged to the access-log bucket under a prefix of the bucket's own."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket,
    logs_prefix: str,
    removal: RemovalPolicy,
    auto_delete: bool,
    **props: Any,
) -> s3.Bucket:
    """``props``: what the bucket adds (its name, lifecycle rules, CORS)."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=logs_prefix,
        removal_policy=removal,
        auto_delete_objects=auto_delete,
        **props,
    )
