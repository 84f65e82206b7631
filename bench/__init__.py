"""``make bench``: berth and the CNCF Distribution registry measured side by side.

See ``docs/performance.md`` for what is measured and how to read the table; the entry point
is :func:`bench.runner.main`.
"""
