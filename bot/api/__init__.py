"""The counselor and web-client HTTP API (versioned under /api/v1)."""
