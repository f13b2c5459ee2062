"""Build room: the generated template's report, lint, the code guard and the Lambda artifact."""
