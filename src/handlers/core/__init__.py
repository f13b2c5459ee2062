"""The pure core shared by the three functions: no boto3, no environment, no clock of its own."""
