"""Every example the project shows runs: each `tapstack` example of a --help or of README.md and
docs/*.md that needs no AWS, no emulator and no other tool is run here, in this process (through
`main`, as the console script runs it), and must end as it would for a user (exit 0, or 1 for a command
that reports a finding), never as a usage error (2) or a crash. Each other example is in NOT_RUN_HERE
with the reason and where it is run instead; an example in neither list fails, and so does an entry no
example needs any more.

Shell variables an example uses (`"$bucket"`) are given the sample values of SHELL_VALUES, and a `> file`
redirection writes the command's output to that file (under build/, the checkout's scratch directory).
"""

from __future__ import annotations

import pytest

from tapstack import paths
from tapstack.cli import main
from tests.support.examples import Example, help_examples, page_examples

AWS = "needs AWS credentials and an account"
EMULATOR = (
    "needs the running emulator (the unit tier opens no socket); tests/integration runs these commands "
    "(test_name_prefix.py, test_send_command.py, test_serve.py, test_aws_cli.py)"
)
LOCAL_ENDPOINT = "needs a running `tapstack local serve` and curl/openssl; tests/integration/test_serve.py"

# An example is not run here when it starts with one of these (the longest that matches decides).
NOT_RUN_HERE: dict[str, str] = {
    "tapstack bootstrap": AWS,
    "tapstack preflight": AWS,
    "tapstack deploy": AWS,
    "tapstack diff": AWS,
    "tapstack destroy": AWS,
    "tapstack replay": AWS,
    "tapstack quarantine": AWS,
    "tapstack object": AWS,
    "tapstack reconcile": AWS + " (tests/integration/test_reconcile.py runs its local twin)",
    "tapstack republish": AWS + " (tests/integration/test_republish.py runs its local twin)",
    "tapstack register": AWS + " (tests/functional/operate/test_registration.py runs it on the stand-ins)",
    "make reconcile ": AWS,
    "export AWS_PROFILE=": AWS,
    "aws ": AWS + " (the CLI-only path runs on the emulator in tests/integration/test_aws_cli.py)",
    "bucket=$(aws ": AWS,
    "make deploy ": AWS,
    "make destroy ": AWS,
    "tapstack local": EMULATOR,
    "make deploy-local": EMULATOR,
    "make send": EMULATOR,
    "make serve-local": EMULATOR,
    "make replay-local": EMULATOR,
    "make destroy-local": EMULATOR,
    "make reconcile-local": EMULATOR,
    "stripe ": "needs the Stripe CLI and a Stripe account",
    "body=": LOCAL_ENDPOINT,
    "sig=": LOCAL_ENDPOINT,
    "curl ": LOCAL_ENDPOINT,
    "tapstack verify --provider": (
        "names the files of a delivery the reader captured; tests/unit/cli/test_verify.py runs it on "
        "vendor-signed material"
    ),
    "tapstack package": "downloads the functions' arm64 wheels; tests/functional/generate/test_artifact.py",
    "make package": "downloads the functions' arm64 wheels; tests/functional/generate/test_artifact.py",
    "artifact=$(ls ": "reads the artifact `make package` built",
    "tapstack bench": "performance is measured by make bench only, never in a test",
    "tapstack diagram": "needs Graphviz's dot, which the tests do not require",
    "tapstack lint": "needs checkov and the policy tools (make environments): make lint runs it",
    "tapstack lint --only cfn-lint": "tests/functional/generate/test_cfn_lint.py lints the template so",
    "tapstack generate": "rewrites the committed files: make test's `tapstack check` proves what it writes",
    "python generate.py": "rewrites the committed template with another setting",
    "tapstack report": "rewrites output/TapStack.md: make test's `tapstack check` proves what it writes",
    "make setup": "makes the environment these tests run in",
    "source .venv/bin/activate": "the shell's own, for the reader's shell",
}
# Examples that start like one of NOT_RUN_HERE but run here: the longest match decides, these win.
RUN_HERE = (
    "tapstack generate --help",
    "tapstack generate --config",
    "tapstack generate --name-prefix",
    "tapstack report --check",
    "tapstack report --template",
    "tapstack verify --help",
)
SHELL_VALUES = {"$bucket": "my-artifacts", "$key": "lambda-abc.zip"}
# Exit statuses an example may end with: done, or something found (a lint or check reporting it).
RAN = (0, 1)

EXAMPLES = [example for _, example in help_examples()] + list(page_examples())


def reason_not_run(example: Example) -> str | None:
    """Why the example is not run here, or None when it is."""
    prefixes = [prefix for prefix in (*NOT_RUN_HERE, *RUN_HERE) if example.line.startswith(prefix)]
    if not prefixes:
        return None
    longest = max(prefixes, key=len)
    return None if longest in RUN_HERE else NOT_RUN_HERE[longest]


def runnable(example: Example) -> tuple[list[str], str | None]:
    """The example's arguments after `tapstack`, with SHELL_VALUES given, and the file a `>` names."""
    words = [_substituted(word) for word in example.words]
    output = None
    if ">" in words:
        output = words[words.index(">") + 1]
        words = words[: words.index(">")]
    assert words[0] == "tapstack", (
        f"{example.where}: `{example.line}` is neither run here nor in NOT_RUN_HERE"
    )
    assert not [word for word in words if "$" in word], (
        f"{example.where}: `{example.line}` needs SHELL_VALUES"
    )
    return words[1:], output


def _substituted(word: str) -> str:
    for name, value in SHELL_VALUES.items():
        word = word.replace(name, value)
    return word


def test_every_example_is_run_here_or_says_why_not() -> None:
    unclassified = [
        f"{example.where}: {example.line}"
        for example in EXAMPLES
        if reason_not_run(example) is None and not example.line.startswith("tapstack ")
    ]
    assert unclassified == [], "run them here, or add each to NOT_RUN_HERE with its reason"


def test_no_entry_is_kept_for_an_example_that_is_gone() -> None:
    used = {
        prefix for prefix in (*NOT_RUN_HERE, *RUN_HERE) if any(e.line.startswith(prefix) for e in EXAMPLES)
    }
    assert set(NOT_RUN_HERE) | set(RUN_HERE) == used


# The examples that read what another writes run after it (the generation before the report of it).
RUN = sorted(
    (example for example in EXAMPLES if reason_not_run(example) is None),
    key=lambda example: not example.line.startswith("tapstack generate"),
)


def test_every_example_that_needs_no_aws_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(paths.REPOSITORY)  # the examples name files relative to the checkout
    assert len(RUN) >= 10
    failures = []
    for example in RUN:
        arguments, output = runnable(example)
        capsys.readouterr()
        try:
            status = main(arguments)
        except Exception as error:
            failures.append(f"{example.where}: `{example.line}` raised {error!r}")
            continue
        printed = capsys.readouterr()
        if status not in RAN:
            failures.append(f"{example.where}: `{example.line}` exited {status}: {printed.err[-500:]}")
        elif output is not None:
            target = paths.REPOSITORY / output
            assert target.is_relative_to(paths.BUILD), f"{example.line} writes outside build/"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(printed.out, encoding="utf-8")
    assert failures == []
