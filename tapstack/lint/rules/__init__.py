"""TapStack's own cfn-lint rules, one per file with its id; cfn-lint loads this folder by path
(`--append-rules`), and `helpers` is what the rules share (cfn-lint skips files named `_*`/`__init__`)."""
