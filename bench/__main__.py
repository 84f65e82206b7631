"""``python -m bench``: see :mod:`bench.runner` and ``docs/performance.md``."""

from bench.runner import main

raise SystemExit(main())
