"""Intake: consent, the questions of the entitlement check and the support forms, and the cases they create.

Pure domain code: it imports neither Rasa nor FastAPI, so the action server, the
gateway's API and the CLI all share it.
"""
