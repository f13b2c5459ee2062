"""The four Lambda functions, their roles, log groups and asynchronous invocation settings.

receiver   -- synchronous behind API Gateway: verifies and validates, then invokes the processor
              asynchronously (Lambda's durable async queue is the hand-off).
processor  -- asynchronous: archives the raw payload and stores the transaction.
notifier   -- the processor's on-success destination: publishes the event.
reconciler -- asynchronous, on a schedule (templates/scheduling.py): lists the providers' event logs
              and hands each event the table lacks to the processor, as the receiver does.
Failures of the asynchronous functions go, after the retries, to a dead-letter queue per function
through one path only: the on-failure destination, whose invocation record carries the request and the
error. A DeadLetterConfig as well would put a second message, the bare event, on the queue (E9031).
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import awslambda, dynamodb, ec2, kms, logs, s3, secretsmanager, sns, sqs, sts, xray
from awacs.aws import Action, Allow, PolicyDocument, Principal, Statement
from troposphere import AWSHelperFn, GetAtt, If, Join, NoValue, Parameter, Split, Sub
from troposphere.awslambda import (
    Code,
    DestinationConfig,
    Environment,
    EventInvokeConfig,
    Function,
    OnFailure,
    OnSuccess,
    TracingConfig,
    VPCConfig,
)
from troposphere.awslambda import (
    LoggingConfig as TroposphereLoggingConfig,
)
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup
from troposphere.secretsmanager import Secret

from templates.common import (
    AWS_SOLUTIONS,
    HIPAA_SECURITY,
    NAG_VALIDATION_FAILURE,
    NIST_800_53_R5,
    PCI_DSS_321,
    POLICY_VERSION,
    RULE_MISREADS_FN_IF,
    SERVERLESS,
    Exemption,
    destroyable,
    exemptions,
    nag_rules,
)
from templates.config import StackConfig
from templates.messaging import Messaging
from templates.naming import StackNames
from templates.parameters import StackParameters
from templates.storage import Storage, objects_arn

# X-Ray grants these only on "*": they are the one wildcard resource the stack allows.
XRAY_WRITE_ACTIONS = [
    xray.PutTraceSegments,
    xray.PutTelemetryRecords,
    xray.GetSamplingRules,
    xray.GetSamplingTargets,
]
METRICS_NAMESPACE = "TapStack"
# Lambda creates and removes the functions' network interfaces with their own roles
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html). The describes support no
# resource-level permissions. Creating names the interface (made in this account), and the given subnets
# and security groups in whichever account owns them: a RAM-shared subnet belongs to the network account.
# Releasing stays granted after a detach, when Lambda still deletes the interfaces with the same role.
NETWORK_INTERFACE_READS = [ec2.DescribeNetworkInterfaces, ec2.DescribeSubnets]
NETWORK_INTERFACE_CREATE = ec2.CreateNetworkInterface
NETWORK_INTERFACE_RELEASES = [
    ec2.DeleteNetworkInterface,
    ec2.AssignPrivateIpAddresses,
    ec2.UnassignPrivateIpAddresses,
]
OUTSIDE_VPC = Exemption(
    "VpcSubnetIds attaches the functions to the organisation's VPC (params/landing-zone.json); without "
    "it they reach only AWS APIs, over TLS with IAM auth, and a VPC would add endpoint or NAT cost and "
    "cold-start latency without narrowing any path.",
    checkov=("CKV_AWS_117",),
    cdk_nag=nag_rules("LambdaInsideVPC", NIST_800_53_R5, PCI_DSS_321, HIPAA_SECURITY),
)


def _no_dead_letter_config(reason: str) -> Exemption:
    """The checks that want a function's DeadLetterConfig, answered with `reason`."""
    return Exemption(
        reason,
        checkov=("CKV_AWS_116",),
        cdk_nag=nag_rules("LambdaDLQ", NIST_800_53_R5, HIPAA_SECURITY, SERVERLESS),
    )


ON_FAILURE_DESTINATION = _no_dead_letter_config(
    "Failed events go to the EventInvokeConfig OnFailure destination, this function's SQS dead-letter "
    "queue, as invocation records with the request and the error; a DeadLetterConfig as well would send "
    "each discarded event a second time, as the bare event (rule E9031)."
)
SYNCHRONOUS_ONLY = _no_dead_letter_config(
    "The receiver is invoked synchronously by API Gateway, so Lambda never queues its events and a "
    "dead-letter queue cannot apply; the caller gets the error and the provider retries."
)
RUNTIME_SETTING = Exemption(
    "The runtime is the `runtime` setting in tapstack.toml, refused by the generator when Lambda "
    "deprecates it within a year; cdk-nag's latest is the newest aws-cdk-lib names, which may not yet be "
    "the one the handlers are tested on.",
    cdk_nag=(f"{AWS_SOLUTIONS}-L1", f"{SERVERLESS}-LambdaLatestVersion"),
)
RESERVED_CONCURRENCY_PARAMETER = Exemption(
    "Reserved concurrency is a parameter per function (ReceiverReservedConcurrency and the like): "
    "params/prod.json reserves some for each, while 0 (the default) reserves none and leaves the property "
    "out (Fn::If), because small accounts cannot reserve any and must keep 100 executions unreserved.",
    cdk_nag=(
        *nag_rules("LambdaConcurrency", NIST_800_53_R5, HIPAA_SECURITY),
        *(
            f"{NAG_VALIDATION_FAILURE}[{rule}]"
            for rule in nag_rules("LambdaConcurrency", NIST_800_53_R5, HIPAA_SECURITY)
        ),
    ),
)
INLINE_POLICIES = Exemption(
    "Each role's policy is inline: written for this role alone, scoped to this stack's ARNs, created and "
    "deleted with it; a managed policy could be attached to other roles, and E9061 refuses AWS managed "
    "ones.",
    cdk_nag=nag_rules("IAMNoInlinePolicy", NIST_800_53_R5, PCI_DSS_321, HIPAA_SECURITY),
)
NETWORK_INTERFACES_IN_THIS_ACCOUNT = Exemption(
    "Lambda creates and deletes the functions' network interfaces with their roles; the interfaces' ids "
    "are not known ahead, so these name every network interface of this account and Region (as the "
    "Lambda guide shows), and creating one names the given subnets and security groups by id in any "
    "account, since RAM-shared subnets belong to the network account.",
    cdk_nag=(
        f"{AWS_SOLUTIONS}-IAM5[/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):ec2:(<AWS::Region>|[a-z0-9-]+):"
        r"(<AWS::AccountId>|\d{12}):network-interface\/\*$/]",
        f"{AWS_SOLUTIONS}-IAM5[/^Resource::arn:\\*:ec2:\\*:\\*:(subnet\\/subnet|security-group\\/sg)-[0-9a-f]+$/]",
    ),
)
NETWORK_INTERFACE_POLICY_IF = Exemption(
    f"The network-interface policy is an Fn::If on AttachToVpc. {RULE_MISREADS_FN_IF}",
    cdk_nag=(f"{NAG_VALIDATION_FAILURE}[{AWS_SOLUTIONS}-IAM5]",),
)
ONLY_ON_ANY_RESOURCE = Exemption(
    "X-Ray's writes and sampling reads, and EC2's describes for the network interfaces, support no "
    "resource-level permissions: `*` is the only resource IAM accepts for them (each statement's Sid "
    "says so); every other statement names this stack's ARNs.",
    cdk_nag=(f"{AWS_SOLUTIONS}-IAM5[Resource::*]", f"{SERVERLESS}-LambdaStarPermissions"),
)
# The processor writes objects under keys it derives from each delivery.
ANY_AUDIT_OBJECT = Exemption(
    "The processor writes each raw payload under a key derived from its provider, date and event id, so "
    "it may put any object of the audit bucket, and only there (s3:PutObject alone).",
    cdk_nag=(
        rf"{AWS_SOLUTIONS}-IAM5[/^Resource::(<AuditBucket\.Arn>|arn:aws[a-z-]*:s3:::[a-z0-9.-]+)\/\*$/]",
    ),
)


class LoggingConfig(TroposphereLoggingConfig):  # type: ignore[misc]  # troposphere is untyped
    """AWS::Lambda::Function LoggingConfig with LogFormat, which troposphere 4.11.1 does not declare."""

    props = {**TroposphereLoggingConfig.props, "LogFormat": (str, False)}  # noqa: RUF012 (troposphere API)


@dataclass(frozen=True)
class StackFunction:
    """One function with everything it owns."""

    role_name: str
    function: Function
    execution_role: Role
    log_group: LogGroup
    invoke_config: EventInvokeConfig | None

    @property
    def arn(self) -> GetAtt:
        return GetAtt(self.function, "Arn")

    def resources(self) -> list[Function | Role | LogGroup | EventInvokeConfig]:
        owned: list[Function | Role | LogGroup | EventInvokeConfig] = [
            self.log_group,
            self.execution_role,
            self.function,
        ]
        if self.invoke_config is not None:
            owned.append(self.invoke_config)
        return owned


@dataclass(frozen=True)
class Functions:
    receiver: StackFunction
    processor: StackFunction
    notifier: StackFunction
    reconciler: StackFunction

    def all(self) -> list[StackFunction]:
        return [self.receiver, self.processor, self.notifier, self.reconciler]


def build_log_group(title: str, name: AWSHelperFn, params: StackParameters, key_arn: AWSHelperFn) -> LogGroup:
    """A log group with the stack's retention and key (functions and API access logs alike)."""
    return destroyable(
        LogGroup(title, LogGroupName=name, RetentionInDays=params.log_retention_days.ref(), KmsKeyId=key_arn)
    )


def _execution_role(
    names: StackNames,
    params: StackParameters,
    role_name: str,
    log_group: LogGroup,
    statements: list[Statement],
    role_exemptions: tuple[Exemption, ...],
) -> Role:
    return Role(
        f"{role_name.capitalize()}Role",
        RoleName=names.function_role(role_name).sub(),
        AssumeRolePolicyDocument=PolicyDocument(
            Version=POLICY_VERSION,
            Statement=[
                Statement(
                    Effect=Allow,
                    Principal=Principal("Service", "lambda.amazonaws.com"),
                    Action=[sts.AssumeRole],
                )
            ],
        ),
        Policies=[
            Policy(
                PolicyName=f"{role_name}-least-privilege",
                PolicyDocument=PolicyDocument(
                    Version=POLICY_VERSION,
                    Statement=[
                        Statement(
                            Sid="WriteOwnLogGroup",
                            Effect=Allow,
                            Action=[logs.CreateLogStream, logs.PutLogEvents],
                            Resource=[GetAtt(log_group, "Arn")],
                        ),
                        Statement(
                            Sid="XRayWritesOnlyExistOnStar",
                            Effect=Allow,
                            Action=XRAY_WRITE_ACTIONS,
                            Resource=["*"],
                        ),
                        *statements,
                    ],
                ),
            ),
            _network_interface_cleanup_policy(role_name),
            If(params.attach_to_vpc, _network_interface_create_policy(params, role_name), NoValue),
        ],
        Metadata=exemptions(
            INLINE_POLICIES,
            ONLY_ON_ANY_RESOURCE,
            NETWORK_INTERFACES_IN_THIS_ACCOUNT,
            NETWORK_INTERFACE_POLICY_IF,
            *role_exemptions,
        ),
    )


def _network_interface_cleanup_policy(role_name: str) -> Policy:
    """What Lambda needs of the function's role to find and release its network interfaces: kept whether
    or not the function is attached, so that detaching it orphans none."""
    return Policy(
        PolicyName=f"{role_name}-vpc-network-interface-cleanup",
        PolicyDocument=PolicyDocument(
            Version=POLICY_VERSION,
            Statement=[
                Statement(
                    Sid="EC2DescribesOnlyExistOnStar",
                    Effect=Allow,
                    Action=NETWORK_INTERFACE_READS,
                    Resource=["*"],
                ),
                Statement(
                    Sid="ReleaseNetworkInterfacesOfThisAccount",
                    Effect=Allow,
                    Action=NETWORK_INTERFACE_RELEASES,
                    Resource=[
                        Sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*")
                    ],
                ),
            ],
        ),
    )


def _ids_as_arns(resource_type: str, ids: Parameter) -> AWSHelperFn:
    """`arn:*:ec2:*:*:<type>/<id>` for each id of the list parameter, comma-separated (ids are unique
    across accounts and Regions; Fn::Join's delimiter must be literal, hence the wildcards)."""
    prefix = f"arn:*:ec2:*:*:{resource_type}/"
    return Join("", [prefix, Join(f",{prefix}", ids.ref())])


def _network_interface_create_policy(params: StackParameters, role_name: str) -> Policy:
    """What Lambda needs of the function's role to give it network interfaces in the given subnets."""
    return Policy(
        PolicyName=f"{role_name}-vpc-network-interfaces",
        PolicyDocument=PolicyDocument(
            Version=POLICY_VERSION,
            Statement=[
                Statement(
                    Sid="CreateNetworkInterfacesInTheGivenSubnetsAndSecurityGroups",
                    Effect=Allow,
                    Action=[NETWORK_INTERFACE_CREATE],
                    Resource=Split(
                        ",",
                        Join(
                            ",",
                            [
                                Sub(
                                    "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}"
                                    ":network-interface/*"
                                ),
                                _ids_as_arns("subnet", params.vpc_subnet_ids),
                                _ids_as_arns("security-group", params.vpc_security_group_ids),
                            ],
                        ),
                    ),
                ),
            ],
        ),
    )


@dataclass(frozen=True)
class FunctionSpec:
    """What distinguishes one function: its permissions, environment and failure routing."""

    role_name: str
    statements: list[Statement]
    variables: dict[str, object]
    asynchronous: bool
    on_success: AWSHelperFn | None = None
    role_exemptions: tuple[Exemption, ...] = ()


def _build_function(
    config: StackConfig,
    names: StackNames,
    params: StackParameters,
    key_arn: AWSHelperFn,
    messaging: Messaging,
    spec: FunctionSpec,
) -> StackFunction:
    role_name = spec.role_name
    logical = role_name.capitalize()
    log_group = build_log_group(
        f"{logical}LogGroup", names.function_log_group(role_name).sub(), params, key_arn
    )
    statements = list(spec.statements)
    dead_letter_arn = messaging.dead_letter_queue_arn(role_name) if spec.asynchronous else None
    if dead_letter_arn is not None:
        # Lambda sends the on-failure invocation record with the function's own role.
        statements.append(
            Statement(
                Sid="SendToOwnDeadLetterQueue",
                Effect=Allow,
                Action=[sqs.SendMessage],
                Resource=[dead_letter_arn],
            )
        )
    execution_role = _execution_role(names, params, role_name, log_group, statements, spec.role_exemptions)
    settings = config.function_settings()[role_name]
    function = Function(
        f"{logical}Function",
        FunctionName=names.function(role_name).sub(),
        Description=f"TapStack {role_name}",
        Runtime=config.runtime,
        Architectures=[config.architecture],
        Handler=f"handlers.{role_name}.handler",
        Code=Code(S3Bucket=params.code_bucket.ref(), S3Key=params.code_key.ref()),
        Role=GetAtt(execution_role, "Arn"),
        MemorySize=settings.memory_mb,
        Timeout=settings.timeout_seconds,
        TracingConfig=TracingConfig(Mode="Active"),
        KmsKeyArn=key_arn,
        Environment=Environment(
            Variables={
                "POWERTOOLS_SERVICE_NAME": role_name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # Every AWS call's connect/read timeouts and retries are derived from it, so that they
                # end before the function's timeout (src/handlers/aws.py, CallBudget).
                "FUNCTION_TIMEOUT_SECONDS": str(settings.timeout_seconds),
                **spec.variables,
            }
        ),
        # The Ref to the log group is also what makes the function wait for it. System level INFO keeps
        # Lambda's START and REPORT lines (duration, memory, init time of every invocation); WARN drops
        # them (rule E9024).
        LoggingConfig=LoggingConfig(
            LogFormat="JSON", LogGroup=log_group.ref(), ApplicationLogLevel="INFO", SystemLogLevel="INFO"
        ),
        ReservedConcurrentExecutions=If(
            params.has_reserved_concurrency[role_name], params.reserved_concurrency[role_name].ref(), NoValue
        ),
        VpcConfig=If(
            params.attach_to_vpc,
            VPCConfig(
                SubnetIds=params.vpc_subnet_ids.ref(), SecurityGroupIds=params.vpc_security_group_ids.ref()
            ),
            NoValue,
        ),
        Metadata=exemptions(
            OUTSIDE_VPC,
            ON_FAILURE_DESTINATION if spec.asynchronous else SYNCHRONOUS_ONLY,
            RUNTIME_SETTING,
            RESERVED_CONCURRENCY_PARAMETER,
        ),
    )
    invoke_config = None
    if dead_letter_arn is not None:
        invoke_config = EventInvokeConfig(
            f"{logical}InvokeConfig",
            FunctionName=function.ref(),
            Qualifier="$LATEST",
            MaximumRetryAttempts=config.max_retry_attempts,
            MaximumEventAgeInSeconds=config.max_event_age_seconds,
            DestinationConfig=DestinationConfig(OnFailure=OnFailure(Destination=dead_letter_arn)),
        )
        if spec.on_success is not None:
            invoke_config.DestinationConfig.OnSuccess = OnSuccess(Destination=spec.on_success)
    return StackFunction(
        role_name=role_name,
        function=function,
        execution_role=execution_role,
        log_group=log_group,
        invoke_config=invoke_config,
    )


def build_functions(
    config: StackConfig,
    names: StackNames,
    params: StackParameters,
    key_arn: AWSHelperFn,
    storage: Storage,
    messaging: Messaging,
    webhook_secret: Secret,
) -> Functions:
    table_arn = GetAtt(storage.table, "Arn")

    def allow(sid: str, actions: list[Action], resource: AWSHelperFn) -> Statement:
        return Statement(Sid=sid, Effect=Allow, Action=actions, Resource=[resource])

    def build(spec: FunctionSpec) -> StackFunction:
        return _build_function(config, names, params, key_arn, messaging, spec)

    notifier = build(
        FunctionSpec(
            role_name="notifier",
            statements=[
                Statement(
                    Sid="PublishPaymentEvents",
                    Effect=Allow,
                    Action=[sns.Publish],
                    # The FIFO topic by its ARN, which holds whether or not the topic exists: a grant
                    # under the topic's condition would be an Fn::If in the policy.
                    Resource=[
                        messaging.events_topic.ref(),
                        Sub(
                            f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:{names.events_fifo_topic.pattern}"
                        ),
                    ],
                ),
                allow("RecordPublication", [dynamodb.GetItem, dynamodb.UpdateItem], table_arn),
                allow("UseStackKey", [kms.Decrypt, kms.GenerateDataKey], key_arn),
            ],
            variables={
                "TRANSACTIONS_TABLE_NAME": storage.table.ref(),
                "EVENTS_TOPIC_ARN": messaging.events_topic.ref(),
                "EVENTS_FIFO_TOPIC_ARN": If(
                    params.has_ordered_delivery_topic, messaging.events_fifo_topic.ref(), ""
                ),
            },
            asynchronous=True,
        )
    )
    processor = build(
        FunctionSpec(
            role_name="processor",
            statements=[
                allow("ArchiveRawPayloads", [s3.PutObject], objects_arn(storage.audit_bucket)),
                allow("StoreTransactions", [dynamodb.PutItem, dynamodb.GetItem], table_arn),
                allow(
                    "OrderObjectStates",
                    [dynamodb.PutItem, dynamodb.GetItem],
                    GetAtt(storage.objects_table, "Arn"),
                ),
                # Lambda invokes the on-success destination with the function's own role.
                allow("InvokeOnSuccessDestination", [awslambda.InvokeFunction], notifier.arn),
                allow("UseStackKey", [kms.Decrypt, kms.GenerateDataKey], key_arn),
            ],
            variables={
                "TRANSACTIONS_TABLE_NAME": storage.table.ref(),
                "OBJECTS_TABLE_NAME": storage.objects_table.ref(),
                "AUDIT_BUCKET_NAME": storage.audit_bucket.ref(),
            },
            asynchronous=True,
            on_success=notifier.arn,
            role_exemptions=(ANY_AUDIT_OBJECT,),
        )
    )
    receiver = build(
        FunctionSpec(
            role_name="receiver",
            statements=[
                allow("HandOffToProcessor", [awslambda.InvokeFunction], processor.arn),
                allow("ReadVerificationMaterial", [secretsmanager.GetSecretValue], webhook_secret.ref()),
                allow("UseStackKey", [kms.Decrypt], key_arn),
            ],
            variables={
                "PROCESSOR_FUNCTION_NAME": processor.function.ref(),
                "WEBHOOK_SECRET_ARN": webhook_secret.ref(),
                "SECRET_CACHE_TTL_SECONDS": "300",
                "ACCEPTED_PROVIDERS": ",".join(config.accepted_providers),
                "ACCEPT_PAYPAL_SIMULATOR": params.accept_paypal_simulator.ref(),
            },
            asynchronous=False,
        )
    )
    reconciler = build(
        FunctionSpec(
            role_name="reconciler",
            statements=[
                allow("ReadProviderApiCredentials", [secretsmanager.GetSecretValue], webhook_secret.ref()),
                allow("FindStoredTransactions", [dynamodb.BatchGetItem], table_arn),
                allow(
                    "KeepReconciliationCursors",
                    [dynamodb.GetItem, dynamodb.PutItem],
                    GetAtt(storage.reconciliation_table, "Arn"),
                ),
                allow("HandOffToProcessor", [awslambda.InvokeFunction], processor.arn),
                allow("UseStackKey", [kms.Decrypt, kms.GenerateDataKey], key_arn),
            ],
            variables={
                "TRANSACTIONS_TABLE_NAME": storage.table.ref(),
                "RECONCILIATION_TABLE_NAME": storage.reconciliation_table.ref(),
                "PROCESSOR_FUNCTION_NAME": processor.function.ref(),
                "WEBHOOK_SECRET_ARN": webhook_secret.ref(),
                # Its counts per provider, alarmed on in this stack's own namespace (templates/monitoring.py).
                "STACK_METRICS_NAMESPACE": stack_namespace(),
            },
            asynchronous=True,
        )
    )
    return Functions(receiver=receiver, processor=processor, notifier=notifier, reconciler=reconciler)


def stack_namespace() -> Sub:
    """The metrics namespace of this stack alone: the Powertools one is shared by every stack."""
    return Sub(f"{METRICS_NAMESPACE}/${{AWS::StackName}}")
