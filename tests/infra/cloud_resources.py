"""The synthesized templates' resources, made real on a moto server, and their values as a function sees them.

A function's environment in the template is CloudFormation: ``{"Ref": "QueueWorkers...Queue"}``,
``{"Fn::ImportValue": "Helpdesk-dev-Data:ExportsOutputRefTable..."}``. ``CloudResources`` resolves
each value the way CloudFormation would, creating the resource it names on moto's server from the
template's own properties the first time it is needed: the table with the template's keys and
indexes, the queues, topics, bus, secret and buckets, the state machines from their definition
assets with their substitutions. So a function that runs against them runs against what would be
deployed, not against what the tests would like it to be.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

ACCOUNT, REGION = "123456789012", "us-east-1"
CREDENTIALS = {"aws_access_key_id": "layout-test", "aws_secret_access_key": "layout-test"}
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "layout-test",
}
DISTRIBUTION_DOMAIN = "d111111abcdef8.cloudfront.net"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """moto's server in its own process on a free port, until the block ends; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"moto's server did not start: {log.read_text()[-2000:]}") from None
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


@dataclass
class CloudResources:
    """Resolves template values, creating what they name on moto's server on first use."""

    endpoint: str
    templates: dict[str, dict[str, Any]]
    outdir: Path
    """The cloud assembly: definition assets are read from it."""
    created: dict[tuple[str, str], str] = field(default_factory=dict)
    """(stack, logical id) -> the value ``Ref`` gives."""
    secret_values: dict[str, str] = field(default_factory=dict)
    """Secret ARN -> the value generated for it (what ``GenerateSecretString`` would have made)."""

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, **CREDENTIALS)

    # --- resolving --------------------------------------------------------------------------------

    def resolve(self, stack: str, value: Any) -> Any:
        """``value`` as CloudFormation would pass it to the resource, in ``stack``."""
        if isinstance(value, list):
            return [self.resolve(stack, item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(stack, item) for key, item in value.items()}
        [(function, argument)] = value.items()
        match function:
            case "Ref":
                return PSEUDO[argument] if argument in PSEUDO else self.ref(stack, argument)
            case "Fn::GetAtt":
                return self.attribute(stack, *argument)
            case "Fn::ImportValue":
                return self.imported(self.resolve(stack, argument))
            case "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(stack, part)) for part in parts)
            case "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for name, replacement in PSEUDO.items():
                    text = text.replace("${" + name + "}", replacement)
                return text
            case _:
                return {function: self.resolve(stack, argument)}

    def imported(self, export: str) -> Any:
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == export:
                    return self.resolve(stack, output["Value"])
        raise LookupError(f"no stack exports {export}")

    def attribute(self, stack: str, logical_id: str, name: str) -> str:
        resource = self.templates[stack]["Resources"][logical_id]
        if resource["Type"] == "AWS::CloudFront::Distribution" and name == "DomainName":
            return DISTRIBUTION_DOMAIN  # nothing of ours calls CloudFront: the name is only put in links
        reference = self.ref(stack, logical_id)
        if name == "Arn" and resource["Type"] == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{reference.rsplit('/', 1)[-1]}"
        if name == "Arn":
            return reference
        raise NotImplementedError(f"Fn::GetAtt {logical_id}.{name} ({resource['Type']})")

    # --- creating ---------------------------------------------------------------------------------

    def ref(self, stack: str, logical_id: str) -> str:
        key = (stack, logical_id)
        if key not in self.created:
            resource = self.templates[stack]["Resources"][logical_id]
            make = getattr(self, "_" + resource["Type"].replace("AWS::", "").replace("::", "_").lower(), None)
            if make is None:
                raise NotImplementedError(f"{resource['Type']} ({logical_id}) is not made on moto by this test")
            self.created[key] = make(stack, logical_id, resource.get("Properties", {}))
        return self.created[key]

    @staticmethod
    def _name(stack: str, logical_id: str) -> str:
        return f"{stack}-{logical_id}".lower()[:80]

    def _dynamodb_globaltable(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        name = properties.get("TableName") or self._name(stack, logical_id)
        indexes = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in properties.get("GlobalSecondaryIndexes", [])
        ]
        self.client("dynamodb").create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=properties["KeySchema"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
            StreamSpecification={"StreamEnabled": True, **properties.get("StreamSpecification", {})},
        )
        return str(name)

    def _sqs_queue(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        name = properties.get("QueueName") or self._name(stack, logical_id)
        return str(self.client("sqs").create_queue(QueueName=name)["QueueUrl"])

    def _ses_configurationset(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        name = str(properties.get("Name") or self._name(stack, logical_id))
        self.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        return name  # Ref of a configuration set is its name

    def _sns_topic(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        name = properties.get("TopicName") or self._name(stack, logical_id)
        return str(self.client("sns").create_topic(Name=name)["TopicArn"])

    def _events_eventbus(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        self.client("events").create_event_bus(Name=properties["Name"])
        return str(properties["Name"])

    def _s3_bucket(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        name = self.resolve(stack, properties.get("BucketName")) or self._name(stack, logical_id)
        self.client("s3").create_bucket(Bucket=name)
        return str(name)

    def _cognito_userpool(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        created = self.client("cognito-idp").create_user_pool(PoolName=self._name(stack, logical_id))
        return str(created["UserPool"]["Id"])

    def _cognito_userpoolclient(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        pool = str(self.resolve(stack, properties["UserPoolId"]))
        created = self.client("cognito-idp").create_user_pool_client(
            UserPoolId=pool, ClientName=self._name(stack, logical_id)
        )
        return str(created["UserPoolClient"]["ClientId"])

    def _apigatewayv2_api(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        created = self.client("apigatewayv2").create_api(
            Name=self._name(stack, logical_id),
            ProtocolType=str(properties.get("ProtocolType", "WEBSOCKET")),
            RouteSelectionExpression=str(properties.get("RouteSelectionExpression", "$request.body.action")),
        )
        return str(created["ApiId"])

    def _athena_workgroup(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        name = self.resolve(stack, properties.get("Name")) or self._name(stack, logical_id)
        self.client("athena").create_work_group(Name=name, Configuration={})
        return str(name)

    def _secretsmanager_secret(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        length = properties.get("GenerateSecretString", {}).get("PasswordLength", 32)
        value = secrets.token_urlsafe(length)[:length]
        created = self.client("secretsmanager").create_secret(Name=self._name(stack, logical_id), SecretString=value)
        arn = str(created["ARN"])
        self.secret_values[arn] = value
        return arn

    def _stepfunctions_statemachine(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        definition = (self.outdir / f"asset.{properties['DefinitionS3Location']['Key']}").read_text()
        for name, value in properties.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + name + "}", str(self.resolve(stack, value)))
        return str(
            self.client("stepfunctions").create_state_machine(
                name=properties.get("StateMachineName") or self._name(stack, logical_id),
                definition=definition,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/layout-test",
            )["stateMachineArn"]
        )

    def _ses_template(self, stack: str, logical_id: str, properties: dict[str, Any]) -> str:
        template = properties["Template"]
        self.client("ses").create_template(
            Template={
                "TemplateName": template["TemplateName"],
                "SubjectPart": template.get("SubjectPart", ""),
                "TextPart": template.get("TextPart", ""),
                "HtmlPart": template.get("HtmlPart", ""),
            }
        )
        return str(template["TemplateName"])

    def environment(self, stack: str, variables: dict[str, Any]) -> dict[str, str]:
        """A function's environment variables as Lambda would set them."""
        return {name: str(self.resolve(stack, value)) for name, value in variables.items()}

    def make_all(self, stack: str, resource_type: str) -> None:
        """Create every resource of a type in a stack (those the code reaches by name, not through its environment)."""
        for logical_id, resource in self.templates[stack]["Resources"].items():
            if resource["Type"] == resource_type:
                self.ref(stack, logical_id)
