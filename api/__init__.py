"""HTTP API (issue: API)."""
