"""Run room: the Lambda handlers, their pure core and each provider's verification."""
