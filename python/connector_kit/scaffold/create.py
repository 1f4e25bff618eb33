"""Creating a connector folder from the templates under `templates/source/`.

Each template is rendered with `string.Template` (`${name}`, `${package}`,
`${title}`); a `package` directory becomes the connector's package and the
`.tmpl` suffix is dropped. Everything is rendered before anything is written,
and a folder left half-written by a failed write is removed again.
"""

from __future__ import annotations

import shutil
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from string import Template

from connector_kit.errors import ConfigError
from connector_kit.scaffold.names import ConnectorName

TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_DIRECTORY = "package"


def create_connector(name: ConnectorName, *, parent: Path) -> Path:
    """Write a new capture connector folder `parent/<name>`; returns its path."""
    target = parent / name.name
    if not parent.is_dir():
        raise ConfigError(f"cannot create {target}: {parent} is not a directory")
    files = render_templates(name)
    try:
        target.mkdir()
    except FileExistsError:
        raise ConfigError(
            f"{target} already exists; choose another name or remove it first "
            "(connector-kit new never writes into an existing folder)"
        ) from None
    except OSError as err:
        raise ConfigError(f"cannot create {target}: {err.strerror or err}") from None
    try:
        for relative, text in files.items():
            path = target.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as err:
        shutil.rmtree(target, ignore_errors=True)
        raise ConfigError(f"cannot create {target}: {err.strerror or err}") from None
    return target


def render_templates(name: ConnectorName) -> dict[PurePosixPath, str]:
    """Each file of the new folder, by its path inside the folder."""
    values = {"name": name.name, "package": name.package, "title": name.title}
    root = resources.files("connector_kit.scaffold").joinpath("templates", "source")
    rendered: dict[PurePosixPath, str] = {}
    for relative, template in _templates(root, PurePosixPath()):
        parts = [name.package if part == PACKAGE_DIRECTORY else part for part in relative.parts]
        output = PurePosixPath(*parts)
        output = output.with_name(output.name.removesuffix(TEMPLATE_SUFFIX))
        rendered[output] = Template(template.read_text(encoding="utf-8")).substitute(values)
    return rendered


def _templates(
    directory: Traversable, relative: PurePosixPath
) -> list[tuple[PurePosixPath, Traversable]]:
    found = []
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found.extend(_templates(entry, relative / entry.name))
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            found.append((relative / entry.name, entry))
    return found
