"""The `tapstack` command and the libraries behind it, one room per job.

* generate (`templates/`, `tapstack.generate`): settings to template, its review report and the
  deployer's policy;
* lint (`tapstack.lint`): every policy tool over the template (cfn-lint with `tapstack/lint/rules/`,
  checkov, Control Tower's controls, cdk-nag) and the code guard over the handlers;
* artifact (`tapstack.artifact`): the deterministic Lambda zip;
* run (`src/handlers/`): the Lambda handlers, which import nothing from the other rooms;
* operate (`tapstack.operate`, `tapstack.local`): deploying to AWS, and the local cloud on the emulator.

`tapstack.cfn` is the one model of a CloudFormation template the rooms share; `tapstack.paths` and
`tapstack.exits` hold the repository's paths and the commands' exit codes; `tapstack.cli` is the command.
"""
