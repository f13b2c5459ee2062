"""Local stand-ins for the providers' APIs, served on loopback in their documented wire formats."""
