"""The one model of a CloudFormation template: reading it, walking references, resolving intrinsics."""
