"""Lint room: the template through every policy tool (cfn-lint and the rules here, checkov, Control Tower's
proactive controls, cdk-nag) and the handler source through the code guard; one listing of findings."""
