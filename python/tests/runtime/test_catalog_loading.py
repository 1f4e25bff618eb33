"""Loading `test.flow.yaml` catalogs: imports, config and schema files, and bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connector_kit.errors import ConfigError
from connector_kit.runtime.catalog import load_catalog
from connector_kit.runtime.duration import parse_duration


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


CAPTURE = """
captures:
  acmeCo/source-x:
    endpoint:
      local:
        command: [python, source_x.py]
        config: {token: abc}
    bindings:
      - resource: {name: users}
        target: acmeCo/users
"""


def test_catalog_with_imports_and_files_resolves_relative_to_each_file(tmp_path: Path) -> None:
    root = write(
        tmp_path / "test.flow.yaml",
        """
        import: [acmeCo/flow.yaml]
        captures:
          acmeCo/source-x:
            endpoint:
              local:
                command: [python, source_x.py]
                config: config.yaml
                env: {EXTRA: "1"}
            interval: 1h30m
            shards: {logLevel: debug}
            bindings:
              - resource: {name: users}
                target: acmeCo/users
                backfill: 2
        """,
    )
    write(tmp_path / "config.yaml", "host: example.com\nport: 8080\n")
    write(
        tmp_path / "acmeCo" / "flow.yaml",
        """
        collections:
          acmeCo/users:
            schema: users.schema.yaml
            key: [/id]
            projections:
              user_id: /id
              region: {location: /region, partition: true}
        """,
    )
    write(tmp_path / "acmeCo" / "users.schema.yaml", "type: object\nrequired: [id]\n")

    catalog = load_catalog(root)

    capture = catalog.capture()
    assert capture.name == "acmeCo/source-x"
    assert capture.config.value == {"host": "example.com", "port": 8080}
    assert capture.config.origin == (tmp_path / "config.yaml").resolve()
    assert capture.config.location == 'captures."acmeCo/source-x".endpoint.local.config'
    assert capture.spec.interval == 5400.0
    assert capture.log_level == "debug"
    assert capture.spec.bindings[0].backfill == 2
    users = catalog.collections["acmeCo/users"]
    assert users.write_schema == {"type": "object", "required": ["id"]}
    assert users.read_schema == users.write_schema
    assert users.key == ["/id"]
    assert users.spec.projections["user_id"].location == "/id"
    assert users.spec.projections["region"].partition is True
    assert catalog.files == (root.resolve(), (tmp_path / "acmeCo" / "flow.yaml").resolve())


def test_defaults_follow_flow(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path / "test.flow.yaml", CAPTURE))
    capture = catalog.capture("acmeCo/source-x")
    assert capture.spec.interval == 300.0
    assert capture.log_level == "info"
    assert capture.config.origin == (tmp_path / "test.flow.yaml").resolve()


def test_import_cycles_load_each_file_once(tmp_path: Path) -> None:
    write(tmp_path / "test.flow.yaml", "import: [a.yaml]\n" + textwrap.dedent(CAPTURE))
    write(tmp_path / "a.yaml", "import: [b.yaml, test.flow.yaml]\n")
    write(
        tmp_path / "b.yaml",
        "import: [a.yaml]\ncollections:\n  acmeCo/users: {schema: {type: object}, key: [/id]}\n",
    )
    catalog = load_catalog(tmp_path / "test.flow.yaml")
    assert len(catalog.files) == 3
    assert "acmeCo/users" in catalog.collections


def test_yaml_values_keep_their_json_meaning(tmp_path: Path) -> None:
    write(
        tmp_path / "test.flow.yaml",
        CAPTURE.replace("{token: abc}", "{start: 2024-01-01, flag: yes, on: off}"),
    )
    config = load_catalog(tmp_path / "test.flow.yaml").capture().config.value
    assert config == {"start": "2024-01-01", "flag": "yes", "on": "off"}


def test_schema_reference_with_fragment_selects_a_subschema(tmp_path: Path) -> None:
    write(
        tmp_path / "test.flow.yaml",
        "collections:\n  acmeCo/users: {schema: 'defs.yaml#/$defs/user', key: [/id]}\n",
    )
    write(tmp_path / "defs.yaml", "$defs:\n  user: {type: object, title: User}\n")
    users = load_catalog(tmp_path / "test.flow.yaml").collections["acmeCo/users"]
    assert users.write_schema == {"type": "object", "title": "User"}


def test_write_and_read_schemas(tmp_path: Path) -> None:
    write(
        tmp_path / "test.flow.yaml",
        """
        collections:
          acmeCo/users:
            writeSchema: {type: object, title: write}
            readSchema: {type: object, title: read}
            key: [/id]
        """,
    )
    users = load_catalog(tmp_path / "test.flow.yaml").collections["acmeCo/users"]
    assert users.write_schema["title"] == "write"
    assert users.read_schema["title"] == "read"


def test_materialization_fields_accept_include_as_require(tmp_path: Path) -> None:
    write(
        tmp_path / "test.flow.yaml",
        """
        materializations:
          acmeCo/mat:
            endpoint: {connector: {image: ghcr.io/acme/materialize-x:local, config: {}}}
            bindings:
              - resource: {table: users}
                source: acmeCo/users
                fields: {recommended: 1, include: {name: {}}, exclude: [tmp], groupBy: [id]}
              - resource: {table: other}
                source: {name: acmeCo/other, notBefore: "2024-01-01T00:00:00Z"}
        """,
    )
    mat = load_catalog(tmp_path / "test.flow.yaml").materialization()
    first, second = mat.spec.bindings
    assert first.source.name == "acmeCo/users"
    assert first.fields.recommended == 1
    assert first.fields.require == {"name": {}}
    assert first.fields.group_by == ["id"]
    assert second.source.name == "acmeCo/other"
    assert second.fields.recommended is True


def expect_config_error(tmp_path: Path, catalog: str, *fragments: str) -> str:
    write(tmp_path / "test.flow.yaml", catalog)
    with pytest.raises(ConfigError) as caught:
        load_catalog(tmp_path / "test.flow.yaml")
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    return message


def test_misspelled_binding_field_names_file_and_entry(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path,
        CAPTURE + "      - resource: {name: b}\n        taget: acmeCo/b\n",
        str((tmp_path / "test.flow.yaml").resolve()),
        'captures."acmeCo/source-x".bindings[1].target: is required',
        'captures."acmeCo/source-x".bindings[1].taget: is not a setting',
    )


def test_endpoint_with_both_local_and_connector_is_refused(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path,
        CAPTURE.replace("      local:", "      connector: {image: x, config: {}}\n      local:"),
        'captures."acmeCo/source-x".endpoint: give exactly one of `local`',
    )


def test_bad_interval_says_what_a_duration_looks_like(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path,
        CAPTURE + "    interval: soon\n",
        'captures."acmeCo/source-x".interval',
        "for example 30s, 5m",
    )


def test_missing_config_file_names_the_entry(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path,
        CAPTURE.replace("{token: abc}", "missing.yaml"),
        "config file",
        "missing.yaml does not exist",
        'captures."acmeCo/source-x".endpoint.local.config',
    )


def test_missing_import_names_the_importing_file(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path,
        "import: [nowhere/flow.yaml]\n",
        "nowhere/flow.yaml does not exist",
        "import[0]",
    )


def test_collection_key_must_be_json_pointers(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path,
        "collections:\n  acmeCo/users: {schema: {type: object}, key: [id]}\n",
        'collections."acmeCo/users".key[0]',
        "'id' is not a JSON pointer",
    )


def test_collection_without_schema_is_refused(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path,
        "collections:\n  acmeCo/users: {key: [/id]}\n",
        'collections."acmeCo/users": `schema` (or both `writeSchema` and `readSchema`) is required',
    )


def test_name_defined_in_two_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "other.yaml", CAPTURE)
    expect_config_error(
        tmp_path,
        "import: [other.yaml]\n" + textwrap.dedent(CAPTURE),
        'captures."acmeCo/source-x": is also defined in',
    )


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    expect_config_error(
        tmp_path, "captures:\n  a: [unclosed\n", "is not valid YAML or JSON at line"
    )


def test_unknown_collection_reference_names_the_binding(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path / "test.flow.yaml", CAPTURE))
    capture = catalog.capture()
    with pytest.raises(ConfigError) as caught:
        catalog.collection(
            "acmeCo/users",
            file=capture.file,
            location=["captures", capture.name, "bindings", 0, "target"],
        )
    assert 'captures."acmeCo/source-x".bindings[0].target' in str(caught.value)
    assert "raw discover" in str(caught.value)


def test_choosing_among_several_captures_requires_a_name(tmp_path: Path) -> None:
    write(
        tmp_path / "test.flow.yaml",
        CAPTURE + CAPTURE.replace("captures:\n", "").replace("source-x", "source-y"),
    )
    catalog = load_catalog(tmp_path / "test.flow.yaml")
    with pytest.raises(ConfigError, match="choose one with --capture"):
        catalog.capture()
    with pytest.raises(ConfigError, match="no capture named 'nope'"):
        catalog.capture("nope")
    assert catalog.capture("acmeCo/source-y").name == "acmeCo/source-y"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300),
        ("30s", 30),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("100ms", 0.1),
        ("2 days", 172800),
        ("1h 5m 10s", 3910),
        ("0", 0),
    ],
)
def test_durations_parse_like_flow(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "m5", "5 parsecs", "5m and more"])
def test_non_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
