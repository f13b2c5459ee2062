"""The sizes and metrics the delivery measurement derives: DynamoDB's item-size rules and the metrics an
embedded-metric-format log line defines."""

from __future__ import annotations

import json
from typing import Any

from tapstack.local.measure import attribute_value_size, emitted_metrics, item_size


def test_an_items_size_counts_names_and_values_as_dynamodb_does() -> None:
    item: dict[str, dict[str, Any]] = {
        "transaction_id": {"S": "stripe#evt_1"},  # 14 + 12
        "amount": {"N": "1500"},  # 6 + (2 significant digits -> 1) + 1
        "tags": {"L": [{"S": "a"}, {"BOOL": True}]},  # 4 + 3 + (1 + 1) + (1 + 1)
        "state": {"M": {"k": {"NULL": True}}},  # 5 + 3 + 1 + 1 + 1
    }
    assert item_size(item) == (14 + 12) + (6 + 2) + (4 + 7) + (5 + 6)


def test_a_numbers_size_grows_with_its_significant_digits() -> None:
    assert attribute_value_size({"N": "0"}) == 2
    assert attribute_value_size({"N": "123456"}) == 4
    assert attribute_value_size({"N": "-0.00125"}) == 3


def test_each_metric_and_dimension_set_of_a_log_is_one_metric() -> None:
    line = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {
                    "Namespace": "TapStack",
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": "Accepted"}, {"Name": "Received"}],
                }
            ],
        },
        "service": "receiver",
        "Accepted": [1],
        "Received": [1],
    }
    log = "\n".join(['{"level":"INFO","message":"accepted"}', json.dumps(line), "not json"])

    assert emitted_metrics(log) == {
        "TapStack/Accepted [service=receiver]",
        "TapStack/Received [service=receiver]",
    }
