"""Lint room: `runner` runs the tools' adapters (`cfn_lint` with the rules in `rules/`, `checkov`, and
`policy_tools`: Control Tower's proactive controls and cdk-nag) over a template as written and as `resolve`
resolves it with each parameter file, into one listing of `findings`; `code_guard` checks the handler
source; `rules_page` renders docs/rules.md from the rules."""
