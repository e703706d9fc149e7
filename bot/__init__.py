"""Channels and the message router: the gateway families talk to."""
