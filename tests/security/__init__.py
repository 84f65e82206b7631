"""Security suites, organised by the threat model in docs/security.md."""
