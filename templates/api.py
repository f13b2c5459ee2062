"""The public entry point: a regional REST API in front of the receiver.

POST /webhooks/{provider}  providers authenticate by signature (checked by the receiver), so no API key.
POST /transactions         internal clients: API key and usage plan, plus the HMAC signature.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from troposphere import AWSHelperFn, AWSObject, GetAtt, If, NoValue, Sub
from troposphere.apigateway import (
    AccessLogSetting,
    ApiKey,
    ApiStage,
    Deployment,
    EndpointConfiguration,
    Integration,
    Method,
    MethodSetting,
    QuotaSettings,
    RequestValidator,
    Resource,
    RestApi,
    Stage,
    ThrottleSettings,
    UsagePlan,
    UsagePlanKey,
)
from troposphere.awslambda import Permission
from troposphere.logs import LogGroup

from templates.common import (
    AWS_SOLUTIONS,
    HIPAA_SECURITY,
    NIST_800_53_R5,
    PCI_DSS_321,
    RULE_MISREADS_FN_IF,
    SERVERLESS,
    Exemption,
    exemptions,
    nag_rules,
)
from templates.config import StackConfig
from templates.functions import build_log_group
from templates.naming import StackNames
from templates.parameters import StackParameters

PROVIDER_PATH_PARAMETER = "provider"
# One JSON object per request: who called what, with what result. No bodies, headers or key values.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "requestTime": "$context.requestTimeEpoch",
        "sourceIp": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "apiKeyId": "$context.identity.apiKeyId",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
        "integrationError": "$context.integration.error",
        "xrayTraceId": "$context.xrayTraceId",
    },
    sort_keys=True,
    separators=(",", ":"),
)
NO_CACHE = Exemption(
    "Webhook POSTs must each reach the receiver; a response cache would drop deliveries (and so has "
    "nothing to encrypt).",
    checkov=("CKV_AWS_120",),
    cdk_nag=nag_rules("APIGWCacheEnabledAndEncrypted", NIST_800_53_R5, PCI_DSS_321, HIPAA_SECURITY),
)
SIGNED_BODIES = (
    "every webhook is authenticated by its provider signature over the raw body, which the receiver "
    "verifies before anything is accepted: Stripe HMAC-SHA256 v1 within 300 s; PayPal RSA-SHA256 with a "
    "certificate fetched only from PayPal's API host of the configured environment, chained to the "
    "pinned DigiCert root and naming messageverificationcerts.paypal.com (or .sandbox.paypal.com); "
    "generic HMAC-SHA256 within 300 s."
)
REST_API = "Api"
"""The RestApi's logical id: `${Api}` in a Fn::Sub is its id."""


def execution_log_group_name(stage_name: str) -> str:
    """The Fn::Sub pattern of the log group API Gateway writes a stage's execution logs to.

    API Gateway fixes this name (`API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}`) and creates the
    group itself, unencrypted and never expiring, unless the stack already has it.
    """
    return f"API-Gateway-Execution-Logs_${{{REST_API}}}/{stage_name}"


@dataclass(frozen=True)
class Api:
    rest_api: RestApi
    resources_by_path: dict[str, Resource]
    validator: RequestValidator
    methods: list[Method]
    deployment: Deployment
    stage: Stage
    access_log_group: LogGroup
    execution_log_group: LogGroup
    api_key: ApiKey
    usage_plan: UsagePlan
    usage_plan_key: UsagePlanKey
    invoke_permission: Permission

    def base_url(self) -> Sub:
        return self.route_url("")

    def route_url(self, path: str) -> Sub:
        return Sub(
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
            + self.stage.properties["StageName"]
            + path,
            Api=self.rest_api.ref(),
        )

    def resources(self) -> list[AWSObject]:
        return [
            self.rest_api,
            *self.resources_by_path.values(),
            self.validator,
            *self.methods,
            self.deployment,
            self.stage,
            self.access_log_group,
            self.execution_log_group,
            self.api_key,
            self.usage_plan,
            self.usage_plan_key,
            self.invoke_permission,
        ]


def _deployment_title(methods: list[Method]) -> str:
    """A logical id that changes whenever a method does.

    CloudFormation only creates a new Deployment (and so publishes API changes to the stage) when the
    Deployment resource itself is replaced; hashing the methods into its id does that deterministically.
    """
    definition = json.dumps([method.to_dict() for method in methods], sort_keys=True)
    return "ApiDeployment" + hashlib.sha256(definition.encode()).hexdigest()[:10]


def build_api(
    config: StackConfig,
    names: StackNames,
    params: StackParameters,
    key_arn: AWSHelperFn,
    receiver_function_arn: GetAtt,
) -> Api:
    rest_api = RestApi(
        REST_API,
        Name=names.api.sub(),
        Description="TapStack payment webhooks",
        EndpointConfiguration=EndpointConfiguration(Types=["REGIONAL"]),
        Metadata=exemptions(
            Exemption(
                "The request validator checks each method's path parameters and headers, not bodies: "
                "a body is verified byte for byte against its signature by the receiver, which answers "
                "a specific 4xx for anything malformed; a model would refuse some genuine deliveries "
                "of new provider event types before they are verified and stored.",
                cdk_nag=(f"{AWS_SOLUTIONS}-APIG2",),
            )
        ),
    )
    root = GetAtt(rest_api, "RootResourceId")
    webhooks = Resource("ApiWebhooksResource", RestApiId=rest_api.ref(), ParentId=root, PathPart="webhooks")
    provider = Resource(
        "ApiWebhookProviderResource",
        RestApiId=rest_api.ref(),
        ParentId=webhooks.ref(),
        PathPart="{" + PROVIDER_PATH_PARAMETER + "}",
    )
    transactions = Resource(
        "ApiTransactionsResource", RestApiId=rest_api.ref(), ParentId=root, PathPart="transactions"
    )
    validator = RequestValidator(
        "ApiRequestValidator",
        RestApiId=rest_api.ref(),
        Name="path-and-headers",
        ValidateRequestParameters=True,
        # Bodies are verified byte for byte by the receiver (signatures cover the raw body).
        ValidateRequestBody=False,
    )
    integration = Integration(
        Type="AWS_PROXY",
        IntegrationHttpMethod="POST",
        Uri=Sub(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            "${ReceiverArn}/invocations",
            ReceiverArn=receiver_function_arn,
        ),
    )

    def post_method(title: str, resource: Resource, api_key_required: bool, **extra: object) -> Method:
        return Method(
            title,
            RestApiId=rest_api.ref(),
            ResourceId=resource.ref(),
            HttpMethod="POST",
            AuthorizationType="NONE",
            ApiKeyRequired=api_key_required,
            RequestValidatorId=validator.ref(),
            Integration=integration,
            **extra,
        )

    webhook_method = post_method(
        "ApiWebhookPostMethod",
        provider,
        False,
        RequestParameters={f"method.request.path.{PROVIDER_PATH_PARAMETER}": True},
        Metadata=exemptions(
            Exemption(
                f"Payment providers cannot send IAM or Cognito credentials; {SIGNED_BODIES}",
                checkov=("CKV_AWS_59",),
                cdk_nag=(f"{AWS_SOLUTIONS}-APIG4", f"{AWS_SOLUTIONS}-COG4"),
            )
        ),
    )
    transactions_method = post_method(
        "ApiTransactionsPostMethod",
        transactions,
        True,
        Metadata=exemptions(
            Exemption(
                "Internal clients send the API key of their usage plan (ApiKeyRequired) and sign each "
                "body with the internal HMAC key, which the receiver verifies within 300 s; IAM or "
                "Cognito would add a second identity system for the same few clients.",
                cdk_nag=(f"{AWS_SOLUTIONS}-APIG4", f"{AWS_SOLUTIONS}-COG4"),
            )
        ),
    )
    methods = [webhook_method, transactions_method]
    deployment = Deployment(
        _deployment_title(methods),
        DependsOn=[method.title for method in methods],
        RestApiId=rest_api.ref(),
        Description="TapStack API deployment",
    )
    access_log_group = build_log_group("ApiAccessLogGroup", names.api_access_log_group.sub(), params, key_arn)
    # Declared whether or not ApiExecutionLogging is on: an empty group costs nothing, turning logging
    # off does not delete the logs already kept, and a Condition on it would leave the stage's DependsOn
    # pointing at a resource that may not exist, which CloudFormation refuses.
    execution_log_group = build_log_group(
        "ApiExecutionLogGroup", Sub(execution_log_group_name(config.api_stage_name)), params, key_arn
    )
    stage = Stage(
        "ApiStage",
        # The group must exist before API Gateway writes the first execution log, or it creates its own.
        DependsOn=[execution_log_group.title],
        RestApiId=rest_api.ref(),
        StageName=config.api_stage_name,
        DeploymentId=deployment.ref(),
        TracingEnabled=True,
        CacheClusterEnabled=False,
        AccessLogSetting=If(
            params.has_api_access_logging,
            AccessLogSetting(DestinationArn=GetAtt(access_log_group, "Arn"), Format=ACCESS_LOG_FORMAT),
            NoValue,
        ),
        MethodSettings=[
            MethodSetting(
                ResourcePath="/*",
                HttpMethod="*",
                MetricsEnabled=True,
                LoggingLevel=params.api_execution_logging.ref(),
                # Full request/response logging would write payment payloads into logs.
                DataTraceEnabled=False,
                ThrottlingRateLimit=params.api_rate_limit.ref(),
                ThrottlingBurstLimit=params.api_burst_limit.ref(),
            )
        ],
        Metadata=exemptions(
            NO_CACHE,
            Exemption(
                "Access logs are on by default (ApiAccessLogging=ENABLED), in JSON; they sit behind "
                "Fn::If, because accounts without the API Gateway CloudWatch role can only deploy with "
                f"them off. {RULE_MISREADS_FN_IF}",
                checkov=("CKV_AWS_76",),
                cdk_nag=(
                    f"{AWS_SOLUTIONS}-APIG1",
                    f"{SERVERLESS}-APIGWAccessLogging",
                    f"{SERVERLESS}-APIGWStructuredLogging",
                ),
            ),
            Exemption(
                "Execution logging is the ApiExecutionLogging parameter: params/prod.json and "
                "params/landing-zone.json log ERROR; OFF (the default, and dev) saves the cost, and ERROR "
                "or INFO need the account-level API Gateway CloudWatch role.",
                cdk_nag=(
                    f"{AWS_SOLUTIONS}-APIG6",
                    *nag_rules("APIGWExecutionLoggingEnabled", NIST_800_53_R5, PCI_DSS_321, HIPAA_SECURITY),
                ),
            ),
            Exemption(
                "The integration is AWS_PROXY: API Gateway calls the Lambda API, over TLS and signed with "
                "IAM; a client certificate authenticates API Gateway only to an HTTP back end, which this "
                "API has none of.",
                cdk_nag=nag_rules("APIGWSSLEnabled", NIST_800_53_R5, PCI_DSS_321, HIPAA_SECURITY),
            ),
        ),
    )
    api_key = ApiKey("ApiKey", Name=names.api_key.sub(), Enabled=True, Description="Internal clients")
    usage_plan = UsagePlan(
        "ApiUsagePlan",
        UsagePlanName=names.usage_plan.sub(),
        ApiStages=[ApiStage(ApiId=rest_api.ref(), Stage=stage.ref())],
        Throttle=ThrottleSettings(
            RateLimit=params.api_rate_limit.ref(), BurstLimit=params.api_burst_limit.ref()
        ),
        Quota=QuotaSettings(Limit=params.api_quota_per_day.ref(), Period="DAY"),
    )
    usage_plan_key = UsagePlanKey(
        "ApiUsagePlanKey", KeyId=api_key.ref(), KeyType="API_KEY", UsagePlanId=usage_plan.ref()
    )
    invoke_permission = Permission(
        "ReceiverInvokePermission",
        Action="lambda:InvokeFunction",
        FunctionName=receiver_function_arn,
        Principal="apigateway.amazonaws.com",
        SourceAccount=Sub("${AWS::AccountId}"),
        SourceArn=Sub(
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/POST/*",
            Api=rest_api.ref(),
        ),
    )
    return Api(
        rest_api=rest_api,
        resources_by_path={
            "/webhooks": webhooks,
            "/webhooks/{provider}": provider,
            "/transactions": transactions,
        },
        validator=validator,
        methods=methods,
        deployment=deployment,
        stage=stage,
        access_log_group=access_log_group,
        execution_log_group=execution_log_group,
        api_key=api_key,
        usage_plan=usage_plan,
        usage_plan_key=usage_plan_key,
        invoke_permission=invoke_permission,
    )
