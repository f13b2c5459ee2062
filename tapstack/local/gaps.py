"""What the emulator does not create of the stack, and why: the one source of the local deploy's note
(tapstack/local/target.py) and of docs/local.md's list of local differences (`tapstack generate`).

moto's CloudFormation creates a resource only of a type it models; it lists any other as a resource
without a logical id and goes on. An integration test (tests/integration/test_deploy.py) deploys the
stack and checks that what the emulator skipped is exactly what this list names, so neither the note
nor the page can claim more than the emulator does. No boto3 here: `tapstack generate` imports it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorGap:
    """Resource types moto's CloudFormation does not create, and how the local path makes up for them."""

    types: tuple[str, ...]
    instead: str


EMULATOR_GAPS = (
    EmulatorGap(
        ("AWS::SecretsManager::Secret", "AWS::ApiGateway::ApiKey"),
        "the local deploy makes the webhook secret and the API key beside the stack, from the template's "
        "own properties, and removes them with it",
    ),
    EmulatorGap(
        (
            "AWS::ApiGateway::Stage",
            "AWS::ApiGateway::UsagePlan",
            "AWS::ApiGateway::UsagePlanKey",
            "AWS::ApiGateway::RequestValidator",
        ),
        "`local serve` answers as the stage does (its routes, the API key on /transactions, the 10 MB "
        "limit); throttling, quotas and request validation are proved by the template tests only",
    ),
    EmulatorGap(
        ("AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation", "AWS::WAFv2::LoggingConfiguration"),
        "no web ACL filters local requests: the rules are proved by tests/unit/generate/test_waf.py, which "
        "evaluates them with WAF's documented semantics, and by the linters",
    ),
    EmulatorGap(
        ("AWS::Lambda::EventInvokeConfig",),
        "the local runtime (tapstack/local/local_lambda.py) reads the retries and destinations from the "
        "template and plays them",
    ),
    EmulatorGap(
        ("AWS::Scheduler::Schedule",),
        "no schedule runs the reconciler locally: `make reconcile-local` runs it on demand, and the "
        "local runtime's run_schedule plays a scheduled run",
    ),
    EmulatorGap(
        ("AWS::CloudWatch::Alarm", "AWS::Logs::MetricFilter"),
        "no alarm or metric filter runs locally: the template tests and the report check them",
    ),
    EmulatorGap(
        ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"),
        "nothing enforces a resource policy locally: the template tests and the linters check them",
    ),
)

SKIPPED_TYPES: dict[str, EmulatorGap] = {kind: gap for gap in EMULATOR_GAPS for kind in gap.types}


def gaps_section() -> str:
    """The Markdown list of the gaps, for docs/local.md."""
    lines = [f"- {', '.join(f'`{kind}`' for kind in gap.types)}: {gap.instead};" for gap in EMULATOR_GAPS]
    lines[-1] = lines[-1].removesuffix(";") + "."
    return "\n".join(lines) + "\n"
