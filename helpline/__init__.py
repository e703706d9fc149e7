"""Shared core of the Xicheng helpline assistant: settings, database, embeddings, CLI."""
