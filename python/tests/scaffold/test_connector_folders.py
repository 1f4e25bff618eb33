"""`connector-kit new` scaffolds a capture that passes its own tests; `connector-kit test`
runs a connector folder's tests and fails when the connector breaks its contract."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from connector_kit.errors import ConfigError
from connector_kit.scaffold import ConnectorName, connector_test_command, create_connector
from connector_kit.testing import CaptureContract

RUFF_CONFIG = Path(__file__).resolve().parents[3] / "ruff.toml"
CONTRACT_TESTS = sorted(name for name in dir(CaptureContract) if name.startswith("test_"))


def connector_kit(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # Catalogs run `python`: let it be this interpreter, as in an activated environment.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "connector_kit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PATH": path},
        timeout=300,
        check=False,
    )


def test_a_new_connector_passes_its_own_contract_tests(tmp_path: Path) -> None:
    created = connector_kit("new", "source-foo", "--directory", tmp_path)
    assert created.returncode == 0, created.stderr
    folder = tmp_path / "source-foo"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "GETTING_STARTED.md",
        "connector_config.yaml",
        "pyproject.toml",
        "source_foo/__init__.py",
        "source_foo/__main__.py",
        "source_foo/api.py",
        "source_foo/models.py",
        "source_foo/resources.py",
        "test.flow.yaml",
        "tests/__init__.py",
        "tests/conftest.py",
        "tests/example_api.py",
        "tests/test_api.py",
        "tests/test_contract.py",
    ]

    tested = connector_kit("test", folder, "-v")

    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    for name in CONTRACT_TESTS:
        assert f"tests/test_contract.py::TestContract::{name} PASSED" in tested.stdout
    assert "tests/test_api.py::test_items_after_a_cursor_come_in_pages" in tested.stdout


def test_connector_test_fails_when_the_key_is_not_in_the_document_schema(tmp_path: Path) -> None:
    folder = create_connector(ConnectorName.parse("source-broken"), parent=tmp_path)
    resources = folder / "source_broken" / "resources.py"
    resources.write_text(resources.read_text().replace('key=["/id"]', 'key=["/item_id"]'))

    # The contract suite alone, stopping at the first failure: the full run is shown above.
    tested = connector_kit("test", folder, "-x", "-k", "TestContract")

    assert tested.returncode == 1, tested.stdout[-4000:]
    assert (
        "FAILED tests/test_contract.py::TestContract::"
        "test_discovered_keys_exist_in_the_discovered_schema"
    ) in tested.stdout
    assert "items: key /item_id is not a property of its schema" in tested.stdout


def test_discover_on_a_new_connector_leaves_its_catalog_as_it_is(tmp_path: Path) -> None:
    folder = create_connector(ConnectorName.parse("source-foo"), parent=tmp_path)
    catalog = folder / "test.flow.yaml"
    before = catalog.read_bytes()

    discovered = connector_kit("raw", "discover", "--source", catalog)

    assert discovered.returncode == 0, discovered.stderr
    assert "the catalog was already up to date" in discovered.stderr
    assert catalog.read_bytes() == before


def test_new_connector_code_meets_the_house_lint_rules(tmp_path: Path) -> None:
    folder = create_connector(ConnectorName.parse("source-acme-crm"), parent=tmp_path)
    ruff = [sys.executable, "-m", "ruff"]
    # In the repository, a connector's package is listed as first-party next to ours.
    first_party = "lint.isort.known-first-party = ['connector_kit', 'source_acme_crm']"

    checked = subprocess.run(
        [*ruff, "check", "--config", RUFF_CONFIG, "--config", first_party, "."],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    formatted = subprocess.run(
        [*ruff, "format", "--check", "--config", RUFF_CONFIG, "."],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout


def test_names_derive_the_package_and_title() -> None:
    name = ConnectorName.parse("source-acme-crm2")
    assert (name.name, name.package, name.title) == (
        "source-acme-crm2",
        "source_acme_crm2",
        "Acme Crm2",
    )


@pytest.mark.parametrize(
    "text",
    ["foo", "source-", "source-Foo", "source-1abc", "source-foo--bar", "source-foo-", "source_foo"],
)
def test_names_that_are_not_capture_names_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"is not a capture name: write source-<name>"):
        ConnectorName.parse(text)


def test_materializations_are_refused_with_what_to_do_instead() -> None:
    with pytest.raises(ConfigError, match=r"scaffolds captures only"):
        ConnectorName.parse("materialize-foo")


def test_an_existing_folder_is_never_written_into(tmp_path: Path) -> None:
    existing = tmp_path / "source-foo"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")

    with pytest.raises(ConfigError, match=r"source-foo already exists"):
        create_connector(ConnectorName.parse("source-foo"), parent=tmp_path)
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]


def test_a_folder_without_the_connector_layout_is_not_tested(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")

    with pytest.raises(ConfigError, match=r"has no test\.flow\.yaml or tests/"):
        connector_test_command(tmp_path)
    with pytest.raises(ConfigError, match=r"is not a directory"):
        connector_test_command(tmp_path / "missing")


def test_connector_tests_run_in_the_folder_with_its_sources_importable(tmp_path: Path) -> None:
    folder = create_connector(ConnectorName.parse("source-foo"), parent=tmp_path)

    command = connector_test_command(folder, pytest_args=["-x"])

    assert command.argv == [sys.executable, "-m", "pytest", str(folder / "tests"), "-x"]
    assert command.cwd == folder
    assert command.env["PYTHONPATH"].split(os.pathsep)[0] == str(folder)
