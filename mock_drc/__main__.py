"""``python -m mock_drc`` runs the ``mock-drc`` command line."""

from mock_drc.cli import main

raise SystemExit(main())
