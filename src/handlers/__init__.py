"""Code that runs in TapStack's three Lambda functions: receiver, processor and notifier."""
