"""The whole TapStack template, composed in one place.

Read top to bottom: the key everything is encrypted with, the data it protects, the queues and topics,
the functions that move events between them, the API in front and the web ACL in front of it, the alarms
and the dashboard watching it, the outputs.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import Template

from templates.api import build_api, execution_log_group_name
from templates.config import StackConfig, settings_of
from templates.contract import CONTROL_TOWER_METADATA, ROLES, SETTINGS_METADATA
from templates.controls import control_tower_gaps, gaps_metadata
from templates.dashboard import build_dashboard
from templates.encryption import build_encryption
from templates.functions import build_functions
from templates.messaging import build_messaging
from templates.monitoring import build_alarms, build_sections
from templates.outputs import build_outputs
from templates.parameters import build_parameters
from templates.scheduling import build_scheduling
from templates.storage import build_storage
from templates.waf import build_waf
from templates.webhook_secret import build_webhook_secret

DESCRIPTION = (
    "TapStack: payment webhooks (Stripe, PayPal, internal) verified, stored exactly in DynamoDB, "
    "archived to S3 and published to SNS, with nothing lost."
)


def build_template(config: StackConfig) -> Template:
    names = config.names()
    params = build_parameters(config, names)

    log_group_names = [
        *(names.function_log_group(role).pattern for role in ROLES),
        names.api_access_log_group.pattern,
        execution_log_group_name(config.api_stage_name),
        names.waf_log_group.pattern,
    ]
    encryption = build_encryption(names, log_group_names)
    storage = build_storage(names, params, encryption.key_arn)
    webhook_secret = build_webhook_secret(names, encryption.key_arn, config.accepted_providers)
    messaging = build_messaging(config, names, params, encryption.key_arn)
    functions = build_functions(config, names, params, encryption.key_arn, storage, messaging, webhook_secret)
    scheduling = build_scheduling(names, params, encryption.key_arn, functions.reconciler)
    api = build_api(config, names, params, encryption.key_arn, functions.receiver.arn)
    waf = build_waf(names, params, encryption.key_arn, api, messaging.alarm_topic, config.accepted_providers)
    watched = build_sections(names, params, functions, messaging, api, waf.metrics)
    alarms = build_alarms(names, watched, functions, messaging)
    dashboard = build_dashboard(names, watched)
    outputs = build_outputs(
        names, encryption, storage, messaging, functions, api, webhook_secret, config.accepted_providers
    )
    control_gaps = control_tower_gaps(
        params,
        log_groups=[
            *(stack_function.log_group for stack_function in functions.all()),
            api.access_log_group,
            api.execution_log_group,
            waf.log_group,
        ],
        api_stage=api.stage,
        functions=[stack_function.function for stack_function in functions.all()],
        access_log_bucket=storage.access_log_bucket,
    )

    template = Template(Description=DESCRIPTION)
    template.set_version("2010-09-09")
    # The settings that built the template travel with it: reviewers and the report read them there;
    # so do the Control Tower controls some parameter values (or none) fail, which lint checks against.
    template.set_metadata(
        {
            **params.interface_metadata(),
            SETTINGS_METADATA: settings_of(config),
            CONTROL_TOWER_METADATA: gaps_metadata(control_gaps),
        }
    )
    for parameter in params.all_parameters():
        template.add_parameter(parameter)
    for name, expression in params.conditions.items():
        template.add_condition(name, expression)
    template.add_resource([encryption.key, encryption.alias])
    template.add_resource(storage.resources())
    template.add_resource(webhook_secret)
    template.add_resource(messaging.resources())
    for stack_function in functions.all():
        template.add_resource(stack_function.resources())
    template.add_resource(scheduling.resources())
    template.add_resource(api.resources())
    template.add_resource(waf.resources())
    template.add_resource(alarms)
    template.add_resource(dashboard)
    template.add_output(outputs)
    return template


def render(template: Template) -> str:
    """The committed JSON: sorted keys, 2-space indent, trailing newline, nothing time-dependent."""
    document: dict[str, Any] = template.to_dict()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
