"""Management: the domain operations behind the ARM-shaped API (registries, admin user,
tokens and scope maps, role assignments, users and service principals).

Operations here check their inputs and raise :class:`ManagementError`; who may call them is
decided by :mod:`berth.management.authz` at the API layer.
"""
