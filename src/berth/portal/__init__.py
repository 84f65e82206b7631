"""berth's web portal: server-rendered pages under ``/portal/`` on the service plane.

Signed in through the built-in directory (authorization code + PKCE), it calls the same domain
layer as the management API and checks the same permissions (:mod:`berth.management.authz`).
"""
