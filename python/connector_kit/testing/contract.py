"""Contract tests any capture runs against itself with a few lines of pytest.

    @pytest.fixture
    def contract_catalog(tmp_path) -> Path:
        return Path(__file__).parent.parent / "test.flow.yaml"

    class TestContract(CaptureContract):
        pass

Each test drives the connector as a subprocess through the local runtime, exactly
as `connector-kit preview` would, against the catalog the fixture returns.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest

from connector_kit.protocol import capture
from connector_kit.runtime.catalog import load_catalog
from connector_kit.runtime.launch import capture_command, plain_config
from connector_kit.testing.reader import CaptureRun, discover, run_capture, spec
from connector_kit.testing.schemas import declares_pointer, secret_values


class CaptureContract:
    """The standard checks; subclass it in a test module that defines `contract_catalog`."""

    task_name: ClassVar[str | None] = None
    """Which capture of the catalog to test, when it has several."""
    idle_timeout: ClassVar[float] = 2.0
    """Seconds of silence after which a session is considered caught up."""
    max_transactions: ClassVar[int] = 10_000
    """A session ends after this many transactions even if the connector never goes idle."""
    reemitting_collections: ClassVar[frozenset[str]] = frozenset()
    """Collections allowed to re-emit on a second session (e.g. snapshots due again)."""

    @pytest.fixture(scope="class")
    @classmethod
    def contract_spec(cls, contract_catalog: Path) -> dict[str, Any]:
        return spec(contract_catalog, name=cls.task_name)

    @pytest.fixture(scope="class")
    @classmethod
    def contract_discovered(cls, contract_catalog: Path) -> list[dict[str, Any]]:
        return discover(contract_catalog, name=cls.task_name)

    @pytest.fixture(scope="class")
    @classmethod
    def contract_first_run(cls, contract_catalog: Path) -> CaptureRun:
        return run_capture(
            contract_catalog,
            name=cls.task_name,
            idle_timeout=cls.idle_timeout,
            sessions=(cls.max_transactions,),
        )

    def test_spec_schemas_are_valid_json_schema(
        self, contract_spec: dict[str, Any], contract_catalog: Path
    ) -> None:
        assert contract_spec["protocol"] == 3032023
        for name in ("configSchema", "resourceConfigSchema"):
            schema = contract_spec[name]
            jsonschema.validators.validator_for(schema).check_schema(schema)
        config = self._config(contract_catalog)
        errors = _errors(contract_spec["configSchema"], config)
        assert not errors, f"the catalog's endpoint config fails the spec's configSchema: {errors}"

    def test_discovered_keys_exist_in_the_discovered_schema(
        self, contract_discovered: list[dict[str, Any]]
    ) -> None:
        assert contract_discovered, "discover offered no bindings"
        for binding in contract_discovered:
            schema = binding["documentSchema"]
            jsonschema.validators.validator_for(schema).check_schema(schema)
            assert binding["key"], f"{binding['recommendedName']} has no key"
            for pointer in binding["key"]:
                assert declares_pointer(schema, pointer), (
                    f"{binding['recommendedName']}: key {pointer} is not a property of its schema"
                )

    def test_captured_documents_validate_against_the_discovered_schema(
        self,
        contract_catalog: Path,
        contract_spec: dict[str, Any],
        contract_discovered: list[dict[str, Any]],
        contract_first_run: CaptureRun,
    ) -> None:
        assert contract_first_run.documents, "the capture emitted no documents"
        schemas = self._schemas_by_collection(contract_catalog, contract_spec, contract_discovered)
        for collection, document in contract_first_run.documents:
            schema = schemas.get(collection)
            assert schema is not None, f"{collection} matches no discovered binding"
            errors = _errors(schema, document)
            assert not errors, f"a {collection} document violates its discovered schema: {errors}"

    def test_second_session_from_the_emitted_state_reemits_nothing(
        self, contract_catalog: Path, contract_first_run: CaptureRun
    ) -> None:
        second = run_capture(
            contract_catalog,
            name=self.task_name,
            idle_timeout=self.idle_timeout,
            sessions=(self.max_transactions,),
            initial_state=contract_first_run.final_state,
        )
        again = second.collections - self.reemitting_collections
        assert not again, (
            f"a session resumed from the emitted state captured again: "
            f"{ {c: len(second.records(c)) for c in sorted(again)} }"
        )

    def test_stdout_holds_only_protocol_lines(self, contract_catalog: Path) -> None:
        catalog = load_catalog(contract_catalog)
        task = catalog.capture(self.task_name)
        command = capture_command(task, catalog_dir=catalog.directory)
        config = plain_config(task.config)
        requests = b"".join(
            capture.Request.model_validate(r).to_json_line()
            for r in ({"spec": {"connectorType": "LOCAL"}}, {"discover": {"config": config}})
        )
        done = subprocess.run(
            command.argv,
            cwd=command.cwd,
            env=command.env,
            input=requests,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        lines = done.stdout.splitlines()
        assert len(lines) == 2
        for line in lines:
            message = json.loads(line)
            assert isinstance(message, dict)
            assert len(message) == 1, f"a stdout line carries several messages: {line!r}"
            capture.Response.model_validate(message)
        for line in done.stderr.splitlines():
            if line.strip():
                assert isinstance(json.loads(line), dict), (
                    f"stderr line is not a JSON log: {line!r}"
                )

    def test_marked_secrets_never_appear_in_any_output(
        self,
        contract_catalog: Path,
        contract_spec: dict[str, Any],
        contract_discovered: list[dict[str, Any]],
        contract_first_run: CaptureRun,
    ) -> None:
        secrets = secret_values(contract_spec["configSchema"], self._config(contract_catalog))
        outputs = {
            "spec": json.dumps(contract_spec),
            "discover": json.dumps(contract_discovered),
            "capture": contract_first_run.output.decode(errors="replace"),
            "logs": "\n".join(contract_first_run.logs),
        }
        for secret in secrets:
            for where, text in outputs.items():
                assert secret not in text, f"a secret config value appears in the {where} output"

    def _config(self, contract_catalog: Path) -> dict[str, Any]:
        return plain_config(load_catalog(contract_catalog).capture(self.task_name).config)

    def _schemas_by_collection(
        self,
        contract_catalog: Path,
        contract_spec: dict[str, Any],
        discovered: list[dict[str, Any]],
    ) -> dict[str, Any]:
        pointers = contract_spec.get("resourcePathPointers") or []

        def path(resource: dict[str, Any]) -> tuple[Any, ...]:
            return tuple(_at(resource, p) for p in pointers)

        by_path = {path(b["resourceConfig"]): b["documentSchema"] for b in discovered}
        task = load_catalog(contract_catalog).capture(self.task_name)
        return {
            b.target: by_path.get(path(b.resource))
            for b in task.spec.bindings
            if path(b.resource) in by_path
        }


def _at(value: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value.get(token) if isinstance(value, dict) else None
    return value


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in validator.iter_errors(instance)
    ][:5]
