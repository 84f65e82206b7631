"""Events: every login attempt and repository operation, with the precise reason; metrics."""
