"""The `tapstack` command and the libraries behind it, in three rooms.

* build (`templates/`, `tapstack.build`): the template, its review report, lint and the Lambda artifact;
* run (`src/handlers/`): the Lambda handlers, which import nothing from the other rooms;
* operate (`tapstack.operate`, `tapstack.local`): deploying to AWS, and the local cloud on the emulator.

`tapstack.cfn` is the one model of a CloudFormation template the rooms share; `tapstack.paths` and
`tapstack.exits` hold the repository's paths and the commands' exit codes; `tapstack.cli` is the command.
"""
