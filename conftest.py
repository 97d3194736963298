"""Root conftest of the project's own test run.

The harness's pytest plugin is registered once, through the ``kic_conformance`` pytest11 entry
point in pyproject.toml; it is not listed here again (that would register it twice). It stays
inert unless ``--kic-url`` or ``--kic-demo`` is given. ``pytester`` serves the plugin's tests.
``tests/`` goes on the import path for support modules shared by several test folders
(``loopback``, ``polling``), whatever order the folders are collected in.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "tests"))

pytest_plugins = ["pytester"]
