"""`tapstack republish`'s pure parts: bad input refused in one line before any AWS call, the queue ARN,
and the republished message: the notifier's own, marked."""

from __future__ import annotations

import json

import pytest

from handlers.core.notifying import REPUBLISHED, publication
from handlers.core.processing import process
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.operate.republish import QueueArn
from tests.support.lifecycles import stripe_payment
from tests.support.memory_ports import FakeArchive, FakeObjectStates, FakeStore

QUEUE = "arn:aws:sqs:eu-west-1:111122223333:ledger-events"


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--since", "yesterday"], "error: --since: 'yesterday' is not a time: give ISO 8601 with an offset"),
        (["--since", "1d", "--until", "2026-12-01T00:00:00"], "error: --until: '2026-12-01T00:00:00' is not"),
        (["--since", "1h", "--until", "2h"], "error: the window is empty: "),
        (["--since", "1h", "--to", "ledger-events"], "error: --to: 'ledger-events' is not an SQS queue ARN"),
        (["--since", "1h", "--to", "arn:aws:sns:eu-west-1:1:topic"], "error: --to: 'arn:aws:sns:eu-west-1"),
    ],
    ids=["not-a-time", "no-offset", "empty-window", "not-an-arn", "not-a-queue"],
)
@pytest.mark.parametrize("command", [["republish", "--env", "dev"], ["local", "republish"]])
def test_bad_input_exits_2_in_one_line_before_any_aws_call(
    command: list[str], arguments: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # No AWS region or emulator is set here: a call would fail otherwise, and differently.
    assert main([*command, *arguments]) == ExitCode.USAGE
    error = capsys.readouterr().err
    assert error.startswith(says)
    assert len(error.splitlines()) == 1


def test_a_queue_arn_names_its_region_account_and_name_and_fifo_by_its_suffix() -> None:
    queue = QueueArn.parse(QUEUE)
    assert (queue.region, queue.account, queue.name, queue.fifo) == (
        "eu-west-1",
        "111122223333",
        "ledger-events",
        False,
    )
    assert QueueArn.parse(f"{QUEUE}.fifo").fifo


def test_a_republished_message_is_the_notifier_s_marked_in_its_body_and_attributes() -> None:
    store = FakeStore()
    event = stripe_payment("republish")[2]
    process(event.handoff(), store, FakeArchive(), FakeObjectStates(), "2026-11-23T10:10:00.100Z")
    item = store.get(event.transaction.transaction_id)
    assert item is not None

    original, copy = publication(item), publication(item, republished=True)

    assert json.loads(copy.body) == json.loads(original.body) | {REPUBLISHED: "true"}
    assert copy.attributes == original.attributes | {REPUBLISHED: "true"}
    assert REPUBLISHED not in json.loads(original.body)
    assert REPUBLISHED not in original.attributes
    assert (copy.subject, copy.group_id, copy.deduplication_id) == (
        original.subject,
        original.group_id,
        original.deduplication_id,
    )
