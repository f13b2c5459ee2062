"""Build room: the template, its rules and report, the Lambda artifact."""
