"""``python -m meshlink_service``: serve (default) or ``probe URL``."""

from meshlink_service.cli import main

raise SystemExit(main())
