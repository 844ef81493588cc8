"""The HTTP API (/v1, OpenAPI at /docs) and the investigator UI's server: routes, the
services they share, authentication and limits."""
