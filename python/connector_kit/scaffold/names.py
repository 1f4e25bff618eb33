"""What a new connector may be called, and the names derived from it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from connector_kit.errors import ConfigError

_CAPTURE_NAME = re.compile(r"source-[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class ConnectorName:
    name: str
    """The folder and distribution name, e.g. `source-foo-bar`."""

    @classmethod
    def parse(cls, text: str) -> ConnectorName:
        if _CAPTURE_NAME.fullmatch(text):
            return cls(text)
        if text.startswith("materialize-"):
            raise ConfigError(
                f"cannot create {text!r}: `connector-kit new` scaffolds captures only; "
                "name it source-<name>, or start a materialization from materialize-duckdb"
            )
        raise ConfigError(
            f"{text!r} is not a capture name: write source-<name>, where <name> starts with "
            "a lowercase letter and has lowercase letters, digits and single hyphens "
            "(e.g. source-acme-crm)"
        )

    @property
    def package(self) -> str:
        """The Python package, e.g. `source_foo_bar`."""
        return self.name.replace("-", "_")

    @property
    def title(self) -> str:
        """The source's name for prose, e.g. `Foo Bar`."""
        return " ".join(word.capitalize() for word in self.name.split("-")[1:])
