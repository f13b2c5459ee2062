"""Build room, part one: pure functions from a validated StackConfig to troposphere objects.

`stack.py` composes the whole TapStack template; `bootstrap.py` is the artifact-bucket stack beside it.
"""
