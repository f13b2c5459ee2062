"""Checks run against the account before a deploy creates anything; each returns a structured result.

Reserved concurrency rule (what Lambda enforces when a function's reservation is set):
    reservable = UnreservedConcurrentExecutions + what this stack's functions hold now - minimum
    minimum    = min(100, AccountLimit.ConcurrentExecutions)
Lambda keeps 100 executions unreserved ("You can reserve up to the Unreserved account concurrency
value that is shown, minus 100": https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html);
on accounts whose whole limit is below that (new accounts get 10 or 50) the minimum is the whole
limit, so nothing can be reserved: Lambda then refuses with "... below its minimum value of [10]"
(or [50]), as earlier attempts found (seed 004). On an update, the reservations this
stack's functions hold now are given back first, so they count as available.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.core.secrets import ApiCredentials, VerificationMaterial
from handlers.providers import paypal
from tapstack.operate.adoption import unowned_execution_log_group
from tapstack.operate.artifacts import object_exists
from tapstack.operate.cloud import Clients, describe_stack, outputs_of
from tapstack.operate.stacks import ADVICE
from tapstack.operate.target import DeployTarget
from tapstack.operate.vpc import VPC_EGRESS_OVERRIDE, VPC_EGRESS_VARIABLE, check_vpc
from templates.contract import PAYPAL_SIMULATOR_PARAMETER, ROLES, WEBHOOK_SECRET_ARN, function_name_output

CONCURRENCY_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
CONCURRENCY_QUOTA = "Service Quotas > AWS Lambda > Concurrent executions (L-B99A9384)"
UNRESERVED_MINIMUM = 100
# Each reservation parameter and the output naming the function that holds it.
RESERVATIONS = {f"{role.capitalize()}ReservedConcurrency": function_name_output(role) for role in ROLES}


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a check status, not a password)
    WARN = "warn"  # the deploy may go ahead; something will not work until the operator acts
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        lines = [f"[{self.status.value.upper():4}] {self.check}: {self.detail}"]
        return lines + ([f"       what to do: {self.fix}"] if self.fix else [])


@dataclass(frozen=True)
class DeployPlan:
    """What a deploy is about to do: the stack, its parameters, and the artifact it needs."""

    environment: str
    stack: str
    bootstrap_stack: str
    overrides: dict[str, str]
    artifact_bucket: str | None
    artifact_key: str
    artifact_will_upload: bool
    development: bool = False
    """The parameter file is a development one (tapstack.parameter_files.is_development_file)."""


def effective_parameters(
    template: dict[str, Any], existing: dict[str, Any] | None, overrides: dict[str, str]
) -> dict[str, str]:
    """Template defaults, then the stack's current values (an update keeps them), then the overrides."""
    values = {key: str(spec["Default"]) for key, spec in template["Parameters"].items() if "Default" in spec}
    if existing is not None:
        values |= {p["ParameterKey"]: p["ParameterValue"] for p in existing.get("Parameters", [])}
    return values | overrides


def check_credentials(clients: Clients) -> CheckResult:
    if not clients.region:
        return CheckResult(
            "credentials",
            Status.FAIL,
            "no region is configured",
            "set AWS_REGION (make ... AWS_REGION=eu-west-1)",
        )
    try:
        identity = clients("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        return CheckResult(
            "credentials",
            Status.FAIL,
            f"cannot identify the caller: {error}",
            "configure credentials (AWS_PROFILE, SSO login, or the AWS_ACCESS_KEY_ID/SECRET pair)",
        )
    return CheckResult(
        "credentials", Status.PASS, f"account {identity['Account']} as {identity['Arn']} in {clients.region}"
    )


def check_stack_state(existing: dict[str, Any] | None, plan: DeployPlan) -> CheckResult:
    if existing is None:
        return CheckResult("stack state", Status.PASS, f"{plan.stack} does not exist: it will be created")
    status = str(existing["StackStatus"])
    if status == "REVIEW_IN_PROGRESS":
        return CheckResult("stack state", Status.PASS, f"{plan.stack} was never executed: it will be created")
    if status == "ROLLBACK_COMPLETE":
        return CheckResult(
            "stack state",
            Status.FAIL,
            f"{plan.stack} is ROLLBACK_COMPLETE: its creation failed and it cannot be updated",
            f"delete it first: make destroy ENV={plan.environment}",
        )
    if status.endswith("_IN_PROGRESS"):
        return CheckResult(
            "stack state",
            Status.FAIL,
            f"{plan.stack} is {status}",
            "wait until it finishes, then deploy again",
        )
    if status.endswith("_FAILED"):
        fix = ADVICE.get(status, "see the stack events").replace("<env>", plan.environment)
        return CheckResult(
            "stack state", Status.FAIL, f"{plan.stack} is {status}", fix.replace("<stack>", plan.stack)
        )
    return CheckResult("stack state", Status.PASS, f"{plan.stack} is {status}: it will be updated")


def _held_by_stack(lambda_client: Any, existing: dict[str, Any] | None) -> int:
    """Reserved concurrency this stack's functions hold now (given back to the pool by an update)."""
    if existing is None:
        return 0
    outputs = {output["OutputKey"]: output["OutputValue"] for output in existing.get("Outputs", [])}
    held = 0
    for output_key in RESERVATIONS.values():
        if output_key in outputs:
            concurrency = lambda_client.get_function_concurrency(FunctionName=outputs[output_key])
            held += int(concurrency.get("ReservedConcurrentExecutions", 0))
    return held


def check_reserved_concurrency(
    lambda_client: Any,
    parameters: dict[str, str],
    existing: dict[str, Any] | None,
    account_limits: Callable[[], dict[str, Any] | None],
) -> CheckResult:
    """`account_limits` is the deploy target's (`DeployTarget.lambda_account_limits`)."""
    requested = {key: int(parameters.get(key, "0")) for key in RESERVATIONS}
    total = sum(requested.values())
    if total == 0:
        return CheckResult("reserved concurrency", Status.PASS, "the stack reserves none")
    try:
        limits = account_limits()
    except ClientError as error:
        return CheckResult(
            "reserved concurrency", Status.FAIL, f"cannot read the account's Lambda limits: {error}",
            "allow lambda:GetAccountSettings and lambda:GetFunctionConcurrency to the deploying role",
        )  # fmt: skip
    if limits is None:
        return CheckResult("reserved concurrency", Status.SKIP, "the emulator has no Lambda account settings")
    limit = int(limits["ConcurrentExecutions"])
    unreserved = int(limits["UnreservedConcurrentExecutions"])
    minimum = min(UNRESERVED_MINIMUM, limit)
    held = _held_by_stack(lambda_client, existing)
    reservable = max(0, unreserved + held - minimum)
    asked = ", ".join(f"{key}={value}" for key, value in requested.items() if value)
    detail = (
        f"asks {total} ({asked}); the account's limit is {limit}, {unreserved} unreserved now, "
        f"{held} held by this stack, {minimum} must stay unreserved: {reservable} can be reserved"
    )
    if total <= reservable:
        return CheckResult("reserved concurrency", Status.PASS, detail)
    if reservable == 0:
        fix = (
            f"set {', '.join(f'{key}=0' for key, value in requested.items() if value)} in the parameter file"
        )
    else:
        fix = f"lower the reservations to at most {reservable} in total in the parameter file"
    return CheckResult(
        "reserved concurrency",
        Status.FAIL,
        detail,
        f"{fix} (0 reserves none), or raise the account's limit: {CONCURRENCY_QUOTA}. "
        f"Rule: {CONCURRENCY_DOCS}",
    )


def check_artifact(s3: Any, plan: DeployPlan) -> CheckResult:
    if plan.artifact_bucket is None:
        return CheckResult(
            "artifact",
            Status.FAIL,
            f"no artifact bucket (stack {plan.bootstrap_stack} is missing)",
            "run make bootstrap",
        )
    location = f"s3://{plan.artifact_bucket}/{plan.artifact_key}"
    try:
        present = object_exists(s3, plan.artifact_bucket, plan.artifact_key)
    except ClientError as error:
        return CheckResult(
            "artifact", Status.FAIL, f"cannot read {location}: {error}", "check s3:GetObject access"
        )
    if present:
        return CheckResult("artifact", Status.PASS, f"{location} is there")
    if plan.artifact_will_upload:
        return CheckResult("artifact", Status.PASS, f"{location} is missing and will be uploaded")
    return CheckResult("artifact", Status.FAIL, f"{location} is missing", "run make deploy, which uploads it")


def check_api_logging_role(clients: Clients, parameters: dict[str, str]) -> CheckResult:
    access = parameters.get("ApiAccessLogging") == "ENABLED"
    execution = parameters.get("ApiExecutionLogging", "OFF") != "OFF"
    if not (access or execution):
        return CheckResult("api logging role", Status.PASS, "API logging is off: no account role is needed")
    wanted = " and ".join(
        name for name, on in (("access logging", access), ("execution logging", execution)) if on
    )
    fix = (
        "set ApiAccessLogging=DISABLED and ApiExecutionLogging=OFF in the parameter file, or configure the "
        "account's API Gateway CloudWatch role once (a once-per-account decision): "
        "aws apigateway update-account "
        "--patch-operations op=replace,path=/cloudwatchRoleArn,value=<role arn>, with a role that "
        "apigateway.amazonaws.com may assume and AmazonAPIGatewayPushToCloudWatchLogs attached"
    )
    role_arn = clients("apigateway").get_account().get("cloudwatchRoleArn")
    if not role_arn:
        return CheckResult(
            "api logging role",
            Status.FAIL,
            f"{wanted} needs the account's API Gateway CloudWatch role; none is set",
            fix,
        )
    try:
        clients("iam").get_role(RoleName=role_arn.rsplit("/", 1)[-1])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return CheckResult("api logging role", Status.FAIL, f"the account's role {role_arn} is gone", fix)
        raise
    return CheckResult("api logging role", Status.PASS, f"{wanted} will use the account's role {role_arn}")


def check_execution_log_group(
    clients: Clients, existing: dict[str, Any] | None, template: dict[str, Any]
) -> CheckResult:
    """An execution-log group API Gateway made, which the template now declares: deploy adopts it."""
    adoption = unowned_execution_log_group(clients("cloudformation"), clients("logs"), existing, template)
    if adoption is None:
        return CheckResult("execution log group", Status.PASS, "none to adopt")
    return CheckResult(
        "execution log group",
        Status.WARN,
        f"{adoption.log_group_name} exists and the stack does not own it (API Gateway made it): an update "
        "would fail with 'already exists'; deploy imports it into the stack first (an import change set), "
        "so it is never deleted and nothing races live traffic",
    )


def check_network(clients: Clients, parameters: dict[str, str]) -> CheckResult:
    """The VPC the functions attach to, when the parameters give one (tapstack/operate/vpc.py)."""
    confirmed = os.environ.get(VPC_EGRESS_VARIABLE) == VPC_EGRESS_OVERRIDE.partition("=")[2]
    verdict = check_vpc(clients("ec2"), parameters, clients.region or "", egress_confirmed=confirmed)
    return CheckResult("vpc", Status(verdict.status), verdict.detail, verdict.fix)


def check_paypal_simulator(parameters: dict[str, str], plan: DeployPlan) -> CheckResult:
    """Refuse a stack that would accept PayPal's simulator unless the parameter file is a development
    one: an update keeps the deployed value, so a file silent about it inherits it too."""
    if parameters.get(PAYPAL_SIMULATOR_PARAMETER) != "true":
        return CheckResult(
            "paypal simulator", Status.PASS, "refused, as every stack but a developer's should"
        )
    if plan.development:
        return CheckResult(
            "paypal simulator",
            Status.WARN,
            "accepted (developer stack): PayPal simulator events are stored and published marked simulated",
        )
    return CheckResult(
        "paypal simulator",
        Status.FAIL,
        f"{PAYPAL_SIMULATOR_PARAMETER} is true (set here or kept from the deployed stack), which accepts "
        "PayPal simulator events anyone can send, and the parameter file is not a development one",
        f"add {PAYPAL_SIMULATOR_PARAMETER}=false to the parameter file",
    )


def placeholders_in(material: VerificationMaterial) -> list[str]:
    """What verification material is still a placeholder, so that provider's deliveries are refused."""
    found = []
    if not material.stripe_signing_secrets:
        found.append("stripe_signing_secrets is empty")
    if material.paypal_webhook_id in paypal.PLACEHOLDER_WEBHOOK_IDS:
        shown = material.paypal_webhook_id or "empty"
        found.append(f"paypal_webhook_id is {shown} (PayPal's webhook id, WH-..., is needed)")
    # The catalogue's: the stack's secret holds a placeholder object for each provider it accepts.
    for name, provider in sorted(material.catalogue.items()):
        if not provider.signing_keys:
            found.append(f"{name}.signing_keys is empty")
        found.extend(
            f"{name}.{extra} is empty" for extra, value in sorted(provider.extras.items()) if not value
        )
    return found


def missing_api_credentials(credentials: ApiCredentials) -> list[str]:
    """Which provider API credentials are still placeholders, so registration and reconciliation of
    that provider cannot run (deliveries are not affected)."""
    found = []
    if not credentials.stripe_api_keys:
        found.append("stripe_api_keys is empty (a Stripe restricted key, rk_..., is needed)")
    if not credentials.paypal_api_credentials:
        found.append("paypal_api_credentials is empty (a PayPal app's client id and secret are needed)")
    return found


LOCAL_VERIFICATION_MATERIAL = CheckResult(
    "webhook secret",
    Status.PASS,
    "the emulator's stack gets local signing material and local provider API credentials at deploy "
    "(what `make send` and `local serve` sign with, and what the local provider stand-ins accept)",
)


def check_webhook_secret(clients: Clients, existing: dict[str, Any] | None) -> CheckResult:
    """Warn while the deployed secret still holds placeholders: those providers' deliveries get 401, and
    without API credentials `tapstack register` and reconciliation cannot reach the provider."""
    secret_arn = outputs_of(existing).get(WEBHOOK_SECRET_ARN) if existing else None
    if secret_arn is None:
        return CheckResult(
            "webhook secret",
            Status.WARN,
            "the stack creates the secret with placeholders: every provider's deliveries are refused, and "
            "the providers' APIs cannot be called, until the real material is put in",
            "after the deploy: put the provider API credentials in the secret (<WebhookSecretArn output>), "
            "then run tapstack register (docs/go-live.md)",
        )
    try:
        text = clients("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        material = VerificationMaterial.from_secret_string(text)
        credentials = ApiCredentials.from_secret_string(text)
    except ClientError as error:
        return CheckResult("webhook secret", Status.SKIP, f"cannot read {secret_arn}: {error}")
    except ValueError as error:
        return CheckResult(
            "webhook secret", Status.FAIL, f"{secret_arn} is malformed: {error}", "fix its JSON"
        )
    refused, uncallable = placeholders_in(material), missing_api_credentials(credentials)
    if not (refused or uncallable):
        return CheckResult(
            "webhook secret", Status.PASS, f"configured (PayPal environment {material.paypal_environment})"
        )
    found = ([f"deliveries are refused with 401: {'; '.join(refused)}"] if refused else []) + (
        [f"the providers' APIs cannot be called: {'; '.join(uncallable)}"] if uncallable else []
    )
    return CheckResult(
        "webhook secret",
        Status.WARN,
        f"still placeholders, so {'; and '.join(found)}",
        f"put the provider API credentials in {secret_arn}, then run tapstack register for each provider "
        "(docs/go-live.md)",
    )


def run_preflight(target: DeployTarget, template: dict[str, Any], plan: DeployPlan) -> list[CheckResult]:
    """Every check, in order; the account checks are skipped when there are no credentials."""
    clients = target.clients
    credentials = check_credentials(clients)
    if credentials.status is Status.FAIL:
        return [credentials]
    existing = describe_stack(clients("cloudformation"), plan.stack)
    parameters = effective_parameters(template, existing, plan.overrides)
    checks: list[Callable[[], CheckResult]] = [
        lambda: check_stack_state(existing, plan),
        lambda: check_reserved_concurrency(
            clients("lambda"), parameters, existing, target.lambda_account_limits
        ),
        lambda: check_artifact(clients("s3"), plan),
        lambda: check_api_logging_role(clients, parameters),
        lambda: check_execution_log_group(clients, existing, template),
        lambda: check_network(clients, parameters),
        lambda: check_paypal_simulator(parameters, plan),
        lambda: (
            LOCAL_VERIFICATION_MATERIAL
            if target.supplies_verification_material
            else check_webhook_secret(clients, existing)
        ),
    ]
    return [credentials, *(check() for check in checks)]


def failed(results: list[CheckResult]) -> bool:
    return any(result.status is Status.FAIL for result in results)
