"""What `make measure` records, on the real handlers over the emulator: each function's invocations,
duration, log bytes and AWS requests per delivery, and the DynamoDB units and bytes they leave."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tapstack.cfn.model import Template
from tapstack.cost.measurements import function_measurement
from tapstack.local.emulator import local_material
from tapstack.local.measure import measure_deliveries, measure_scheduled_runs
from tests.support.pipeline import Pipeline, rotate


def test_eachfunction_measurement_s_share_of_a_delivery_is_measured(
    pipeline: Pipeline, template: dict[str, Any]
) -> None:
    measured = measure_deliveries(pipeline.runtime, pipeline.sender, 4)

    scheduled = Template(template).scheduled_functions()  # not run by deliveries
    functions = {
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and k not in scheduled
    }
    assert set(measured.functions) == functions
    shares = {logical_id: function_measurement(entry) for logical_id, entry in measured.functions.items()}
    for logical_id, share in shares.items():
        assert share.invocations == 1, logical_id
        assert share.duration_ms > 0, logical_id
        assert share.log_bytes > 0, logical_id  # its JSON log lines and the metrics it emits
    receiver, processor, notifier = (
        shares[f"{role}Function"] for role in ("Receiver", "Processor", "Notifier")
    )
    # The receiver's only request is the asynchronous Invoke, answered in this process; the secret is cached.
    assert receiver.requests == {}
    assert processor.requests_of("s3.PutObject") == 1
    assert processor.s3_put_bytes > 0
    assert processor.dynamodb_write_units >= 1
    assert notifier.requests_of("sns.Publish") == notifier.sns_publish_requests == 1
    assert notifier.dynamodb_write_units == 1  # marks the stored item published
    assert measured.dynamodb_stored_bytes > 0
    assert measured.api_access_log_bytes > 0
    assert any(metric.startswith("TapStack/Accepted") for metric in measured.custom_metrics)
    assert Decimal(measured.document()["functions"]["ProcessorFunction"]["duration_ms"]) > 0


def test_a_steady_state_scheduled_run_of_the_reconciler_is_measured(
    pipeline: Pipeline, template: dict[str, Any]
) -> None:
    material = local_material()  # the providers' API credentials the local stand-ins accept
    rotate(pipeline, **{key: material[key] for key in ("stripe_api_keys", "paypal_api_credentials")})
    measured = measure_deliveries(pipeline.runtime, pipeline.sender, 4)

    with pipeline.runtime.activated():
        scheduled = measure_scheduled_runs(pipeline.runtime, measured.delivered, 2)

    (reconciler,) = Template(template).scheduled_functions()
    document = scheduled.document()
    assert scheduled.logical_id == reconciler
    assert document["events_in_window"] == {"paypal": 1, "stripe": 1}  # stored: none missing
    assert Decimal(document["duration_ms"]) > 0
    assert Decimal(document["log_bytes_per_run"]) > 0  # its "reconciled" lines and its metrics
    assert Decimal(document["requests_per_run"]["dynamodb.BatchGetItem"]) >= 1  # it read the stored ids
    assert "lambda.Invoke" not in document["requests_per_run"]  # nothing was missing: nothing handed on
    assert Decimal(document["dynamodb_write_units_per_run"]) == 2  # each provider's cursor
    # Each provider's cursor and its event's stored item, read consistently (one unit each, under 4 KB).
    assert Decimal(document["dynamodb_read_units_per_run"]) == 4
    assert any("/Listed [provider=stripe," in metric for metric in document["custom_metrics"])
