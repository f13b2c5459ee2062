"""One command's deployment, loaded once: the template file, the names it was generated with, the
environment suffix, and the target it is deployed to.

The names come from the settings the template records (templates/contract.py), so a template
generated with another prefix (`tapstack generate --name-prefix acme --output ...`) is deployed,
operated and destroyed under its own names by passing it with `--template`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tapstack.cfn.model import read_template
from tapstack.operate.cloud import TEMPLATE_PATH, Clients
from tapstack.operate.target import DeployTarget
from templates.naming import StackNames, names_of


@dataclass(frozen=True)
class Deployment:
    template_path: Path
    template: dict[str, Any]
    names: StackNames
    environment: str
    target: DeployTarget

    @classmethod
    def load(cls, target: DeployTarget, environment: str, template_path: Path = TEMPLATE_PATH) -> Deployment:
        """LookupError when the file is not a generated template; OSError when it cannot be read."""
        template = read_template(template_path)
        return cls(template_path, template, names_of(template), environment, target)

    @property
    def stack(self) -> str:
        return self.names.stack.for_suffix(self.environment)

    @property
    def clients(self) -> Clients:
        return self.target.clients
