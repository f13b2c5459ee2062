"""Operate room, locally: the moto emulator and a local Lambda runtime that runs the real handlers."""
