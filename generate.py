#!/usr/bin/env python3
"""Generate output/TapStack.json (and its review report output/TapStack.md) from the code in templates/.

    python generate.py                      write the template, its report, the deployer policy and the
                                            settings' documentation (tapstack.toml's comments,
                                            docs/configuration.md)
    python generate.py --check              fail if any of those committed files differs from the code
    python generate.py --config tap.toml    settings from a TOML file (flags override it)

The same as `tapstack generate` (`tapstack generate --help` and docs/configuration.md list every
setting). Settings are validated against AWS limits before anything is built; an invalid one exits with
status 2, names the setting, the value, the limit and where the limit comes from, and writes nothing. Run
by an interpreter without the project's dependencies, it re-runs itself with the project's .venv, or says
how to create it.
"""

import os
import sys
from pathlib import Path

PROJECT_PYTHON = Path(__file__).resolve().parent / ".venv" / "bin" / "python"

try:
    import tapstack.cli.generate  # noqa: F401 (the command's module: all generation needs, imported up front)
    from tapstack.cli import main
except ModuleNotFoundError as missing:
    if PROJECT_PYTHON.exists() and Path(sys.prefix).resolve() != PROJECT_PYTHON.parent.parent.resolve():
        os.execv(PROJECT_PYTHON, [str(PROJECT_PYTHON), __file__, *sys.argv[1:]])  # noqa: S606 (our own venv)
    print(
        f"error: generate.py needs TapStack's dependencies (no module {missing.name!r} here): "
        "run `make setup` to create .venv, then run generate.py again (or `make template`)",
        file=sys.stderr,
    )
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
