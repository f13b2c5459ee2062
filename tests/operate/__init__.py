"""Operate room: preflight, stack commands, the local delivery of signed events."""
