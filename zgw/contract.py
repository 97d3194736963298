"""Where the KIC contract is: ``openapi.yaml`` and the scenario library, inside the package.

Both stay at the top of the repository, where people read and edit them. ``zgw/contract-files/``
holds a symbolic link to each, and ``pyproject.toml`` ships what they point at as package data
of ``zgw``: an editable checkout and an installed wheel therefore find the contract at the same
place, and nothing outside the installed package is read at run time. Every module that needs
one of these files asks this module (harness, reference KIC, fuzz phase), nobody builds a path.
"""

from __future__ import annotations

from pathlib import Path

#: The folder inside the package that carries the contract (links in a checkout, copies in a
#: wheel). Not a Python package: the hyphen keeps setuptools from taking it for one.
CONTRACT_FILES = Path(__file__).resolve().parent / "contract-files"


def contract_file(name: str) -> Path:
    """The real path of one shipped contract file or folder (``openapi.yaml``, ``scenarios``).

    Links are resolved, so a checkout reports the files where they are edited.
    """
    return (CONTRACT_FILES / name).resolve()


def openapi_path() -> Path:
    """The KIC 1.0.0-rc1 contract this project tests against and implements."""
    return contract_file("openapi.yaml")


def scenarios_path() -> Path:
    """The built-in scenario library (one folder per resource, plus kic-001/, auth/, http/)."""
    return contract_file("scenarios")
