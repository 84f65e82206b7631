"""Registry-plane handlers, one module per resource."""
