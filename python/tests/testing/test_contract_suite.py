"""The contract suite passes a sound connector and fails each flawed one on the right test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

pytest_plugins = ["pytester"]

CONNECTOR = Path(__file__).with_name("flawed_connector.py")
TESTS = {
    "test_spec_schemas_are_valid_json_schema",
    "test_discovered_keys_exist_in_the_discovered_schema",
    "test_captured_documents_validate_against_the_discovered_schema",
    "test_second_session_from_the_emitted_state_reemits_nothing",
    "test_stdout_holds_only_protocol_lines",
    "test_marked_secrets_never_appear_in_any_output",
}


def catalog(tmp_path: Path, flaw: str) -> Path:
    path = tmp_path / "test.flow.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "captures": {
                    "acmeCo/flawed": {
                        "endpoint": {
                            "local": {
                                "command": [sys.executable, str(CONNECTOR)],
                                "config": {"token": "tok-0123456789-secret"},
                                "env": {"FLAW": flaw},
                            }
                        },
                        "bindings": [{"resource": {"name": "rows"}, "target": "acmeCo/rows"}],
                    }
                },
                "collections": {"acmeCo/rows": {"key": ["/id"], "schema": {"type": "object"}}},
            }
        )
    )
    return path


@pytest.mark.parametrize(
    ("flaw", "failing"),
    [
        ("", set()),
        ("leak", {"test_marked_secrets_never_appear_in_any_output"}),
        ("bad-key", {"test_discovered_keys_exist_in_the_discovered_schema"}),
        ("bad-doc", {"test_captured_documents_validate_against_the_discovered_schema"}),
        ("reemit", {"test_second_session_from_the_emitted_state_reemits_nothing"}),
    ],
)
def test_contract_suite_fails_exactly_the_broken_promise(
    pytester: pytest.Pytester, flaw: str, failing: set[str]
) -> None:
    path = catalog(pytester.path, flaw)
    pytester.makepyfile(
        test_flawed=f"""
import pytest
from pathlib import Path
from connector_kit.testing import CaptureContract

@pytest.fixture(scope="class")
def contract_catalog():
    return Path({str(path)!r})

class TestFlawed(CaptureContract):
    idle_timeout = 1.0
    max_transactions = 50
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rA")
    text = result.stdout.str()
    failed = {name for name in TESTS if f"FAILED test_flawed.py::TestFlawed::{name}" in text}
    passed = {name for name in TESTS if f"PASSED test_flawed.py::TestFlawed::{name}" in text}
    assert failed == failing, text[-3000:]
    assert passed == TESTS - failing, text[-3000:]
