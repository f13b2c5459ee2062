"""Operate room: preflight, deploy, diff, destroy and replay against a CloudFormation endpoint."""
