"""Destroy on the emulator while deliveries still arrive, with Object Lock, and what it reports.

The local runtime runs the stack's functions in this process and does not consult their reserved
concurrency, so a delivery made through it after the throttle plays an invocation that was already
running when the throttle landed. The delivery threads below stop where Lambda would refuse the
receiver (reserved concurrency 0), as API Gateway's call of it would be refused.
"""

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tapstack.local.send import Delivery, LocalRuntime
from tapstack.operate.actions import deploy_environment, destroy_environment
from tapstack.operate.cloud import Clients, DeployError, describe_stack
from tapstack.operate.destroy import DELETE_ATTEMPTS, empty_bucket
from templates.contract import ACCESS_LOG_BUCKET_NAME, AUDIT_BUCKET_NAME, COMPLIANCE_RETENTION_TAG
from tests.integration.conftest import (
    LOCAL_PARAMETERS,
    NAMES,
    deploy,
    named_resources,
    on_emulator,
    tiny_artifact,
)


def _internal_event(runtime: LocalRuntime) -> dict[str, Any]:
    body = {
        "id": f"destroy-{uuid.uuid4().hex}",
        "type": "transaction.created",
        "occurred_at": "2026-11-23T10:00:00Z",
        "amount": "10.50",
        "currency": "EUR",
    }
    return runtime.sender().event("internal", json.dumps(body).encode())


def _deliver(runtime: LocalRuntime) -> Delivery:
    with runtime.activated():
        return runtime.deliver(_internal_event(runtime))


def _reserved_concurrency(clients: Clients, runtime: LocalRuntime) -> dict[str, int | None]:
    lambda_client = clients("lambda")
    return {
        spec.name: lambda_client.get_function_concurrency(FunctionName=spec.name).get(
            "ReservedConcurrentExecutions"
        )
        for spec in runtime.functions.values()
    }


class RefillingS3:
    """The S3 client destroy uses: right after it finds the audit bucket empty (the first `times`
    times), a delivery runs through the stack and stores a new object there."""

    def __init__(self, clients: Clients, runtime: LocalRuntime, times: int) -> None:
        self._s3 = clients("s3")
        self._clients = clients
        self._runtime = runtime
        self.remaining = times
        self.deliveries: list[Delivery] = []
        self.concurrency_at_first_refill: dict[str, int | None] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def list_object_versions(self, **request: Any) -> Any:
        page = self._s3.list_object_versions(**request)
        emptied = not page.get("Versions") and not page.get("DeleteMarkers")
        if emptied and request["Bucket"] == self._runtime.outputs[AUDIT_BUCKET_NAME] and self.remaining:
            self.remaining -= 1
            if not self.deliveries:  # later ones may come after the functions are deleted
                self.concurrency_at_first_refill = _reserved_concurrency(self._clients, self._runtime)
            self.deliveries.append(_deliver(self._runtime))
        return page


def _racing_clients(emulator: Clients, runtime: LocalRuntime, times: int) -> tuple[Clients, RefillingS3]:
    s3 = RefillingS3(emulator, runtime, times)
    return Clients(emulator.session, emulator.endpoint_url, given={"s3": s3}), s3


def test_an_object_stored_after_the_emptying_is_emptied_again_and_the_stack_deleted(
    emulator: Clients, tmp_path: Path
) -> None:
    doomed = deploy(emulator, "race", tmp_path)
    runtime = doomed.runtime()
    assert _deliver(runtime).status == 202  # the audit bucket holds an object, so destroy empties it
    clients, s3 = _racing_clients(emulator, runtime, times=1)

    left = destroy_environment(on_emulator(clients, "race"), with_bootstrap=False, report=doomed.log.append)

    assert [delivery.status for delivery in s3.deliveries] == [202]
    # intake was stopped before anything was emptied
    assert s3.concurrency_at_first_refill == dict.fromkeys(
        (spec.name for spec in runtime.functions.values()), 0
    )
    retry = (
        "AuditBucket got objects after it was emptied: emptying and deleting again "
        f"(attempt 2 of {DELETE_ATTEMPTS})"
    )
    assert retry in doomed.log
    audit = doomed.outputs[AUDIT_BUCKET_NAME]
    emptied = [line.split(": ")[1] for line in doomed.log if line.startswith(f"emptied {audit}:")]
    assert emptied == ["1 object versions and delete markers"] * 2
    assert left == []
    assert not {audit, doomed.outputs[ACCESS_LOG_BUCKET_NAME]} & {
        b["Name"] for b in emulator("s3").list_buckets()["Buckets"]
    }
    assert describe_stack(emulator("cloudformation"), NAMES.stack.for_suffix("race")) is None


def test_a_bucket_refilled_at_every_attempt_fails_the_destroy_after_the_last_one(
    emulator: Clients, tmp_path: Path
) -> None:
    doomed = deploy(emulator, "refill", tmp_path)
    runtime = doomed.runtime()
    assert _deliver(runtime).status == 202
    clients, s3 = _racing_clients(emulator, runtime, times=DELETE_ATTEMPTS)

    with pytest.raises(DeployError) as failed:
        destroy_environment(on_emulator(clients, "refill"), with_bootstrap=False, report=doomed.log.append)

    assert len(s3.deliveries) == DELETE_ATTEMPTS
    assert "AuditBucket (AWS::S3::Bucket)" in str(failed.value)
    assert "aws lambda delete-function-concurrency --function-name" in str(failed.value)
    assert (
        destroy_environment(on_emulator(emulator, "refill"), with_bootstrap=False, report=doomed.log.append)
        == []
    )


def test_deliveries_arriving_during_destroy_stop_at_the_throttle_and_nothing_is_left(
    emulator: Clients, tmp_path: Path
) -> None:
    doomed = deploy(emulator, "busy", tmp_path)
    runtime = doomed.runtime()
    receiver = runtime.api_function.name
    lambda_client = emulator("lambda")
    accepted: list[int] = []
    refused = threading.Event()
    first = threading.Event()
    done = threading.Event()

    def keep_sending() -> None:
        while not done.is_set():
            try:
                concurrency = lambda_client.get_function_concurrency(FunctionName=receiver)
            except ClientError:  # the function is deleted
                return
            if concurrency.get("ReservedConcurrentExecutions") == 0:
                refused.set()  # Lambda throttles API Gateway's call: the provider retries later
                continue
            try:
                accepted.append(_deliver(runtime).status)
            except ClientError:  # a delivery racing the throttle found part of the stack deleted
                return
            first.set()

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    assert first.wait(timeout=60)
    try:
        left = destroy_environment(
            on_emulator(emulator, "busy"), with_bootstrap=False, report=doomed.log.append
        )
    finally:
        done.set()
        sender.join(timeout=60)

    assert accepted
    assert set(accepted) == {202}
    assert refused.is_set()
    assert left == []
    assert not {doomed.outputs[AUDIT_BUCKET_NAME]} & {
        b["Name"] for b in emulator("s3").list_buckets()["Buckets"]
    }


def _lock(s3: Any, bucket: str, default_mode: str | None = None) -> None:
    """Turn Object Lock on (moto's CloudFormation neither versions nor locks the template's buckets)."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    configuration: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    if default_mode is not None:
        configuration["Rule"] = {"DefaultRetention": {"Mode": default_mode, "Days": 1}}
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=configuration)


def _retained(s3: Any, bucket: str, key: str, mode: str, until: datetime) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}", ObjectLockMode=mode, ObjectLockRetainUntilDate=until)


def test_governance_retained_versions_are_deleted_with_the_stack(
    own_emulator: Clients, tmp_path: Path
) -> None:
    doomed = deploy(own_emulator, "gov", tmp_path)
    s3, audit = own_emulator("s3"), doomed.outputs[AUDIT_BUCKET_NAME]
    _lock(s3, audit, default_mode="GOVERNANCE")
    _retained(s3, audit, "raw/held.json", "GOVERNANCE", datetime.now(UTC) + timedelta(days=30))
    runtime = doomed.runtime()
    assert _deliver(runtime).status == 202  # stored under the bucket's default retention
    with pytest.raises(DeployError, match="Access Denied"):
        empty_bucket(s3, audit)  # without the bypass the lock holds

    left = destroy_environment(
        on_emulator(own_emulator, "gov"), with_bootstrap=True, report=doomed.log.append
    )

    assert left == []
    assert named_resources(own_emulator) == set(), "destroy left these behind"


class CountingS3:
    """The S3 client destroy uses, counting the HEADs of object versions and noting the functions'
    reserved concurrency at the first."""

    def __init__(self, clients: Clients, runtime: LocalRuntime) -> None:
        self._s3 = clients("s3")
        self._clients = clients
        self._runtime = runtime
        self.heads = 0
        self.concurrency_at_first_head: dict[str, int | None] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def head_object(self, **request: Any) -> Any:
        if not self.heads:
            self.concurrency_at_first_head = _reserved_concurrency(self._clients, self._runtime)
        self.heads += 1
        return self._s3.head_object(**request)


def _counting_clients(emulator: Clients, runtime: LocalRuntime) -> tuple[Clients, CountingS3]:
    s3 = CountingS3(emulator, runtime)
    return Clients(emulator.session, emulator.endpoint_url, given={"s3": s3}), s3


def test_a_compliance_locked_stack_is_refused_with_its_date_after_intake_stopped_and_intake_resumes(
    own_emulator: Clients, tmp_path: Path
) -> None:
    doomed = deploy(own_emulator, "locked", tmp_path)
    s3, audit = own_emulator("s3"), doomed.outputs[AUDIT_BUCKET_NAME]
    _lock(s3, audit, default_mode="COMPLIANCE")
    later = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    _retained(s3, audit, "raw/a.json", "COMPLIANCE", later - timedelta(days=20))
    _retained(s3, audit, "raw/b.json", "COMPLIANCE", later)
    _retained(s3, audit, "raw/c.json", "GOVERNANCE", later + timedelta(days=5))
    runtime = doomed.runtime()
    made = named_resources(own_emulator)
    clients, counting = _counting_clients(own_emulator, runtime)

    with pytest.raises(DeployError) as refused:
        destroy_environment(on_emulator(clients, "locked"), with_bootstrap=True, report=doomed.log.append)

    message = str(refused.value)
    assert "\n" not in message
    stack = NAMES.stack.for_suffix("locked")
    assert f"stack {stack} cannot be deleted before {later:%Y-%m-%d %H:%M:%S} UTC" in message
    assert audit in message
    # One scan, with intake stopped (nothing could add a version meanwhile); then intake as it was.
    functions = {spec.name for spec in runtime.functions.values()}
    assert counting.concurrency_at_first_head == dict.fromkeys(functions, 0)
    assert counting.heads == 3
    assert set(_reserved_concurrency(own_emulator, runtime).values()) == {None}
    stopped = next(i for i, line in enumerate(doomed.log) if line.startswith("intake stopped"))
    assert doomed.log[stopped + 1 :][-1].startswith("intake resumed")
    assert named_resources(own_emulator) == made  # nothing deleted
    assert len(s3.list_object_versions(Bucket=audit)["Versions"]) == 3


def test_retention_is_not_scanned_where_compliance_was_never_configured(
    own_emulator: Clients, tmp_path: Path
) -> None:
    doomed = deploy(own_emulator, "govscan", tmp_path)
    s3, audit = own_emulator("s3"), doomed.outputs[AUDIT_BUCKET_NAME]
    _lock(s3, audit, default_mode="GOVERNANCE")
    _retained(s3, audit, "raw/held.json", "GOVERNANCE", datetime.now(UTC) + timedelta(days=30))
    clients, counting = _counting_clients(own_emulator, doomed.runtime())

    left = destroy_environment(on_emulator(clients, "govscan"), with_bootstrap=True, report=doomed.log.append)

    assert left == []
    assert counting.heads == 0


def test_compliance_once_deployed_is_remembered_after_the_mode_changes(
    own_emulator: Clients, tmp_path: Path
) -> None:
    """Versions stored under COMPLIANCE stay locked when the default changes; deploy tags the stack."""
    local = json.loads(LOCAL_PARAMETERS.read_text(encoding="utf-8"))
    deployment = on_emulator(own_emulator, "was")
    for mode in ("COMPLIANCE", "GOVERNANCE"):
        parameter_file = tmp_path / f"{mode}.json"
        parameter_file.write_text(json.dumps([*local, f"AuditObjectLockMode={mode}"]), encoding="utf-8")
        outputs = deploy_environment(
            deployment, parameter_file, tiny_artifact(tmp_path), lambda _: None, tmp_path / "flat.json"
        )
    stack = describe_stack(own_emulator("cloudformation"), NAMES.stack.for_suffix("was"))
    assert stack is not None
    assert COMPLIANCE_RETENTION_TAG in stack["Tags"]
    s3, audit = own_emulator("s3"), outputs[AUDIT_BUCKET_NAME]
    _lock(s3, audit, default_mode="GOVERNANCE")
    later = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    _retained(s3, audit, "raw/from-the-compliance-days.json", "COMPLIANCE", later)

    with pytest.raises(DeployError, match=f"cannot be deleted before {later:%Y-%m-%d %H:%M:%S} UTC"):
        destroy_environment(on_emulator(own_emulator, "was"), with_bootstrap=True, report=lambda _: None)


def test_log_groups_services_made_for_the_stack_are_reported(emulator: Clients, tmp_path: Path) -> None:
    doomed = deploy(emulator, "orphans", tmp_path)
    logs, stack = emulator("logs"), NAMES.stack.for_suffix("orphans")
    made_by_services = [
        # a stage the template does not declare
        f"API-Gateway-Execution-Logs_{doomed.outputs['ApiId']}/canary",
        # a web ACL log group beside the stack's own `aws-waf-logs-<stack>`, which goes with the stack
        f"aws-waf-logs-{stack}-blocked",
    ]
    another_stacks = f"aws-waf-logs-{stack}x"
    for name in [*made_by_services, another_stacks]:
        logs.create_log_group(logGroupName=name)
    try:
        left = destroy_environment(
            on_emulator(emulator, "orphans"), with_bootstrap=False, report=doomed.log.append
        )
    finally:
        for name in [*made_by_services, another_stacks]:
            logs.delete_log_group(logGroupName=name)

    assert left == [f"log group {name} (not the stack's own)" for name in sorted(made_by_services)]
