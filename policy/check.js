#!/usr/bin/env node
// Policy as code over CloudFormation templates, for `tapstack lint` (tapstack/lint/policy_tools.py reads
// what this prints and turns it into the listing):
//   * AWS Control Tower's proactive controls: the cfn-guard rules and the cfn-guard binary that
//     @cdklabs/cdk-validator-cfnguard bundles, run on the template files themselves (the hooks see
//     resolved properties, so tapstack lint also passes a copy resolved with each parameter file);
//   * cdk-nag's AwsSolutions, Serverless, NIST 800-53 rev 5, PCI DSS 3.2.1 and HIPAA Security packs, run
//     over each template included with CfnInclude. CfnInclude keeps each resource's Metadata, so cdk-nag
//     honours the suppressions written there: {"cdk_nag": {"rules_to_suppress": [{"id", "reason"}]}}.
//
// Usage: node policy/check.js TEMPLATE...
// Prints one JSON object: {"control_tower": <the validator's report>, "cdk_nag": [<one event per
// finding, suppressed finding or rule that could not evaluate>]}. Exits 0 whatever it finds; a
// template it cannot read or include makes it exit 1 with the reason on stderr.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { App, Aspects, CfnResource, Stack } = require('aws-cdk-lib');
const { CfnInclude } = require('aws-cdk-lib/cloudformation-include');
const { CfnGuardValidator } = require('@cdklabs/cdk-validator-cfnguard');
const nag = require('cdk-nag');

const NAG_PACKS = [
  nag.AwsSolutionsChecks,
  nag.ServerlessChecks,
  nag.NIST80053R5Checks,
  nag.PCIDSS321Checks,
  nag.HIPAASecurityChecks,
];

const CONTROL_TOWER_RULES = path.join(
  path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')),
  'rules',
  'control-tower',
  'cfn-guard',
);
const RESOURCE_TYPE = /AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g;

function ruleFiles(directory) {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(directory, entry.name);
    return entry.isDirectory() ? ruleFiles(file) : [file];
  });
}

// Each control names the resource types it reports on (and those it looks up); one naming none of
// the templates' types can only skip, and cfn-guard's time grows with rules times templates, so only
// the others run.
function controlTower(templates, resourceTypes) {
  const rules = ruleFiles(CONTROL_TOWER_RULES).filter((file) =>
    (fs.readFileSync(file, 'utf8').match(RESOURCE_TYPE) ?? []).some((type) => resourceTypes.has(type)),
  );
  if (rules.length === 0) {
    return { success: true, violations: [] };
  }
  return new CfnGuardValidator({ controlTowerRulesEnabled: false, rules }).validate({ templatePaths: templates });
}

// cdk-nag calls a logger for every rule on every resource; this one keeps what a reader must act on.
class EventCollector {
  constructor(templateOfStack) {
    this.templateOfStack = templateOfStack;
    this.events = [];
  }

  add(event, data, extra) {
    const resource = data.resource;
    this.events.push({
      event,
      template: this.templateOfStack.get(Stack.of(resource)),
      resource: resource.node.id, // CfnInclude names each construct after its logical id
      rule_id: data.ruleId,
      level: data.ruleLevel,
      info: data.ruleInfo,
      explanation: data.ruleExplanation,
      ...extra,
    });
  }

  onNonCompliance(data) {
    this.add('non-compliance', data, { finding_id: data.findingId });
  }

  onSuppressed(data) {
    this.add('suppressed', data, { finding_id: data.findingId, reason: data.suppressionReason });
  }

  onError(data) {
    this.add('error', data, { error: data.errorMessage });
  }

  onSuppressedError(data) {
    this.add('suppressed-error', data, { error: data.errorMessage, reason: data.errorSuppressionReason });
  }

  onCompliance() {}

  onNotApplicable() {}
}

// The cdk-nag events, and the resource types the templates hold.
function cdkNag(templates) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapstack-policy-'));
  try {
    // cfn-lint validates the template already; CDK's own validation of the synthesized copy would only
    // repeat it, slowly.
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const templateOfStack = new Map();
    templates.forEach((template, index) => {
      const stack = new Stack(app, `Template${index}`);
      new CfnInclude(stack, 'Included', { templateFile: template });
      templateOfStack.set(stack, template);
    });
    const resourceTypes = new Set(
      app.node.findAll().filter(CfnResource.isCfnResource).map((resource) => resource.cfnResourceType),
    );
    const collector = new EventCollector(templateOfStack);
    for (const Pack of NAG_PACKS) {
      Aspects.of(app).add(new Pack({ additionalLoggers: [collector], reports: false }));
    }
    app.synth(); // runs the packs, which are aspects
    return { events: collector.events, resourceTypes };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function main(templates) {
  if (templates.length === 0) {
    process.stderr.write('usage: node policy/check.js TEMPLATE...\n');
    return 2;
  }
  const { events, resourceTypes } = cdkNag(templates);
  const report = { control_tower: controlTower(templates, resourceTypes), cdk_nag: events };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
