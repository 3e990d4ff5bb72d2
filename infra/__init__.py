"""The CDK app that deploys the helpdesk into an AWS account."""
