"""A stack generated with `--name-prefix acme` goes through the CLI alone, each command given the
template with `--template`: it deploys to the emulator, takes a `send` and a `replay`, and is destroyed
with nothing left, the stack an earlier prefix (the committed template's) left running with it."""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.operate.cloud import Clients
from templates.contract import TRANSACTIONS_TABLE_NAME
from tests.integration.conftest import LOCAL_PARAMETERS, NAMES, deploy, named_resources, tiny_artifact

PREFIX = "acme"
ENVIRONMENT = "it"
EVENT = paths.EVENTS / "stripe" / "payment_intent.succeeded.json"
REFUND = paths.EVENTS / "stripe" / "refund.created.json"


def _sample_after(command: str, page: Path) -> str:
    """The output a page shows under `$ command`: the lines up to the next blank one."""
    text = page.read_text(encoding="utf-8")
    return text[text.index(f"{command}\n") + len(command) + 1 :].split("\n\n", 1)[0]


def _shape(output: str) -> list[str]:
    """Output lines with what differs run to run or with the names (ids, sizes, counts, names) masked."""
    masked = re.sub(r"\b[a-z0-9]+(-[a-z0-9]+)+\b", "NAME", output)  # a stack, function or message id
    return re.sub(r"\d+", "N", masked).strip().splitlines()


def _shown_in_order(sample: list[str], output: list[str]) -> bool:
    """Whether each sample line (but `…`, which stands for lines left out) is an output line, in order."""
    rest = iter(output)
    return all(line in rest for line in sample if line != "…")


def test_a_prefixed_template_deploys_takes_a_send_and_a_replay_and_is_destroyed_through_the_cli(
    own_emulator: Clients, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template, outputs = tmp_path / "acme" / "TapStack.json", tmp_path / "flat-outputs.json"
    port = str(urlsplit(own_emulator.endpoint_url).port)
    stack_options = ["--template", str(template), "--env", ENVIRONMENT, "--port", port]

    (tmp_path / "earlier").mkdir()
    earlier = deploy(own_emulator, ENVIRONMENT, tmp_path / "earlier")  # the committed prefix's, then renamed
    before = named_resources(own_emulator)
    generated = main(["generate", "--name-prefix", PREFIX, "--output", str(template)])
    deployed = main(
        [
            "local", "deploy", *stack_options, "--params", str(LOCAL_PARAMETERS),
            "--artifact", str(tiny_artifact(tmp_path)), "--outputs", str(outputs),
        ]
    )  # fmt: skip
    made = named_resources(own_emulator) - before
    deployed_outputs = json.loads(outputs.read_text(encoding="utf-8"))
    capsys.readouterr()
    sent = main(["local", "send", str(EVENT), *stack_options])
    document = json.loads(capsys.readouterr().out)
    faulty = main(["local", "send", str(REFUND), *stack_options, "--fault", "table"])  # one dead letter
    capsys.readouterr()
    replayed = main(["local", "replay", *stack_options, "--apply"])
    replay_out = capsys.readouterr().out  # the handlers log to .local/replay.log
    destroyed = main(["local", "destroy", *stack_options, "--with-bootstrap", "--outputs", str(outputs)])
    destroy_log = capsys.readouterr().out

    assert (generated, deployed, sent, faulty, replayed, destroyed) == (ExitCode.OK,) * 6
    assert {"acme-it", "acme-bootstrap", "acme-it-ApiId", "acme/it/webhook-secrets"} <= made
    assert not [name for name in made if "tapstack" in name]
    assert deployed_outputs[TRANSACTIONS_TABLE_NAME] == "acme-transactions-it"
    assert document["ok"], document["failures"]
    assert document["item"]["transaction_id"] == document["response"]["body"]["transaction_id"]
    # What the README and docs/local.md show `make replay-local APPLY=1` printing, and nothing else.
    for page in (paths.REPOSITORY / "README.md", paths.REPOSITORY / "docs" / "local.md"):
        assert _shape(replay_out) == _shape(_sample_after("$ make replay-local APPLY=1", page)), page
        shown = _sample_after("$ make destroy-local && make local-down", page)
        destroyed_shown = shown.split("\nstopped the emulator")[0]  # the rest is local-down's
        assert _shown_in_order(_shape(destroyed_shown), _shape(destroy_log)), page
    assert not outputs.exists()  # it named what no longer exists
    earlier_stack = earlier.deployment.stack
    assert earlier_stack in before
    assert f"also destroying {earlier_stack}: a local stack of this checkout" in destroy_log
    assert f"stack {earlier_stack} deleted; nothing left behind" in destroy_log
    assert f"stack {NAMES.bootstrap_stack} deleted; nothing left behind" in destroy_log
    assert named_resources(own_emulator) == set(), "destroy left these behind"
