"""The management API over HTTP: ARM-shaped resources and a Graph-shaped directory subset.

One module per resource (``registries``, ``credentials``, ``tokens``, ``scope_maps``,
``role_assignments``, ``graph``); ``models`` holds the JSON bodies, ``deps`` the caller and
scope every handler starts from, ``errors`` ARM's error envelope. Handlers parse, authorize
with :meth:`Api.require`, call the domain layer (:mod:`berth.management`) and shape the answer;
the contract is docs/management-api.md.
"""

from berth.management.api.plane import build_service_plane

__all__ = ["build_service_plane"]
