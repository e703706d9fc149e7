"""Rasa custom actions: thin adapters from conversations to the domain packages."""
