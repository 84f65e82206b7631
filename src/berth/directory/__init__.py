"""The built-in directory: one tenant of users and service principals, and its token endpoint."""
