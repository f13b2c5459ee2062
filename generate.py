#!/usr/bin/env python3
"""Generate output/TapStack.json (and its review report output/TapStack.md) from the code in templates/.

    python generate.py                      write the template
    python generate.py --check              fail if the committed JSON differs from the code
    python generate.py --config tap.toml    settings from a TOML file (flags override it)

The same as `tapstack generate` (`tapstack generate --help` lists every setting). Settings are validated
against AWS limits before anything is built; an invalid one exits with status 2, names the setting, the
value, the limit and where the limit comes from, and writes nothing.
"""

import sys

from tapstack.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
