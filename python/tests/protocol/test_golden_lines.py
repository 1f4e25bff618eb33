"""Golden JSON lines for every capture and materialize message, in both directions.

Each line is what the Flow runtime sends or expects (JSON names per the proto's
json_name, raw JSON embedded as values, int64 as strings, bytes as base64, enums
as names). Parsing a line and writing it back must give the same line, byte for
byte, so nothing is renamed, re-typed or dropped on the way through.
"""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from connector_kit.errors import ProtocolError
from connector_kit.protocol import capture, materialize
from connector_kit.tuple import unpack

COLLECTION = (
    '{"name":"acmeCo/things","writeSchema":{"type":"object"},"readSchema":{"type":"object"},'
    '"key":["/id"],"uuidPtr":"/_meta/uuid","partitionFields":["region"],'
    '"projections":[{"ptr":"/id","field":"id","isPrimaryKey":true,"inference":{"types":'
    '["integer"],"exists":"MUST"}},{"ptr":"/name","field":"name","inference":{"types":'
    '["string","null"],"string":{"format":"date-time","maxLength":12},"exists":"MAY"}}]}'
)
CAPTURE_SPEC = (
    '{"name":"acmeCo/source-x","connectorType":"IMAGE","config":{"token":"t"},'
    '"bindings":[{"resourceConfig":{"name":"things"},"resourcePath":["things"],'
    f'"collection":{COLLECTION},"backfill":2,"stateKey":"things.v2"}}],"intervalSeconds":300}}'
)
MATERIALIZATION_SPEC = (
    '{"name":"acmeCo/mat","connectorType":"LOCAL","config":{"database":"x.duckdb"},'
    '"bindings":[{"resourceConfig":{"table":"things"},"resourcePath":["things"],'
    f'"collection":{COLLECTION},"priority":3,"fieldSelection":{{"keys":["id"],'
    '"values":["name"],"document":"flow_document","fieldConfig":{"name":{"x":1}}},'
    '"deltaUpdates":true,"journalReadSuffix":"materialize/acmeCo/mat/things","backfill":1,'
    '"stateKey":"things.v1","serPolicy":{"strTruncateAfter":65536}}]}'
)
RANGE = '{"keyBegin":0,"keyEnd":4294967295,"rClockBegin":0,"rClockEnd":4294967295}'
CHECKPOINT = (
    '{"sources":{"a/read/journal;suffix":{"readThrough":"12345","producers":[{"id":"AwkIBQc=",'
    '"state":{"lastAck":"8675","begin":"1111"}}]}},"ackIntents":{"an/ack/journal":"AwQCBQ=="}}'
)

CAPTURE_REQUESTS = [
    '{"spec":{"connectorType":"IMAGE","config":{}}}',
    '{"discover":{"connectorType":"IMAGE","config":{"token":"t"},"name":"acmeCo/source-x"}}',
    '{"validate":{"name":"acmeCo/source-x","connectorType":"IMAGE","config":{"token":"t"},'
    f'"bindings":[{{"resourceConfig":{{"name":"things"}},"collection":{COLLECTION},'
    f'"backfill":2}}],"lastCapture":{CAPTURE_SPEC},"lastVersion":"00:11"}}}}',
    f'{{"apply":{{"capture":{CAPTURE_SPEC},"version":"11:22","lastCapture":{CAPTURE_SPEC},'
    '"lastVersion":"00:11"}}',
    f'{{"open":{{"capture":{CAPTURE_SPEC},"version":"11:22","range":{RANGE},'
    '"state":{"bindingStateV1":{"things.v2":{"cursor":"2024-01-01T00:00:00Z"}}}}}',
    '{"acknowledge":{"checkpoints":3}}',
]

CAPTURE_RESPONSES = [
    '{"spec":{"protocol":3032023,"configSchema":{"type":"object"},"resourceConfigSchema":'
    '{"type":"object"},"documentationUrl":"https://example.com/docs","oauth2":{"provider":'
    '"acme","authUrlTemplate":"https://auth","accessTokenHeaders":{"h":{"x":1}}},'
    '"resourcePathPointers":["/name"]}}',
    '{"discovered":{"bindings":[{"recommendedName":"things","resourceConfig":{"name":"things"},'
    '"documentSchema":{"type":"object"},"key":["/id"],"disable":true,"resourcePath":["things"]}]}}',
    '{"validated":{"bindings":[{"resourcePath":["things"]}]}}',
    '{"applied":{"actionDescription":"created things"}}',
    '{"opened":{"explicitAcknowledgements":true}}',
    '{"captured":{"binding":2,"doc":{"id":1,"nested":{"a":[1,null]}}}}',
    '{"sourcedSchema":{"binding":1,"documentSchema":{"type":"object","additionalProperties":false}}}',
    '{"checkpoint":{"state":{"updated":{"bindingStateV1":{"gone":null}},"mergePatch":true}}}',
]

MATERIALIZE_REQUESTS = [
    '{"spec":{"connectorType":"IMAGE","config":{}}}',
    '{"validate":{"name":"acmeCo/mat","connectorType":"LOCAL","config":{"database":"x"},'
    f'"bindings":[{{"resourceConfig":{{"table":"things"}},"collection":{COLLECTION},'
    '"fieldConfig":{"name":{"x":1}},"backfill":3,"groupBy":["id"]}],'
    f'"lastMaterialization":{MATERIALIZATION_SPEC},"lastVersion":"00:11"}}}}',
    f'{{"apply":{{"materialization":{MATERIALIZATION_SPEC},"version":"11:22",'
    f'"lastMaterialization":{MATERIALIZATION_SPEC},"lastVersion":"00:11","state":{{"a":1}}}}}}',
    f'{{"open":{{"materialization":{MATERIALIZATION_SPEC},"version":"11:22","range":{RANGE},'
    '"state":{"connector":{"state":42}}}}',
    '{"load":{"binding":12,"key":[42,"hi"],"keyPacked":"FSoCaGkA"}}',
    '{"flush":{}}',
    '{"store":{"binding":3,"key":[true,null],"values":[3.14159,"field!"],"keyPacked":"JwA=",'
    '"valuesPacked":"IcAJIfnwG4ZuAmZpZWxkIQA=","doc":{"full":"document"},"exists":true,'
    '"delete":true}}',
    f'{{"startCommit":{{"runtimeCheckpoint":{CHECKPOINT}}}}}',
    '{"acknowledge":{}}',
]

MATERIALIZE_RESPONSES = [
    '{"spec":{"protocol":3032023,"configSchema":{"type":"object"},"resourceConfigSchema":'
    '{"type":"object","properties":{"table":{"type":"string","x-collection-name":true}}},'
    '"documentationUrl":"https://example.com/docs"}}',
    '{"validated":{"bindings":[{"constraints":{"id":{"type":"FIELD_REQUIRED","reason":"key"},'
    '"name":{"type":"INCOMPATIBLE","reason":"was a DATE","foldedField":"name"}},'
    '"resourcePath":["things"],"deltaUpdates":true,"serPolicy":{"strTruncateAfter":100},'
    '"caseInsensitiveFields":true}]}}',
    '{"applied":{"actionDescription":"CREATE TABLE things","state":{"updated":{"s":1},'
    '"mergePatch":true}}}',
    f'{{"opened":{{"runtimeCheckpoint":{CHECKPOINT},"disableLoadOptimization":true}}}}',
    '{"loaded":{"binding":4,"doc":{"loaded":"doc"}}}',
    '{"flushed":{"state":{"updated":{"flushed":1}}}}',
    '{"startedCommit":{"state":{"updated":{"started":"commit"},"mergePatch":true}}}',
    '{"acknowledged":{}}',
]


def roundtrip(
    model: type[capture.Request]
    | type[capture.Response]
    | type[materialize.Request]
    | type[materialize.Response],
    line: str,
) -> bytes:
    return model.model_validate_json(line).to_json_line()


@pytest.mark.parametrize("line", CAPTURE_REQUESTS)
def test_capture_requests_round_trip(line: str) -> None:
    assert roundtrip(capture.Request, line) == line.encode() + b"\n"


@pytest.mark.parametrize("line", CAPTURE_RESPONSES)
def test_capture_responses_round_trip(line: str) -> None:
    assert roundtrip(capture.Response, line) == line.encode() + b"\n"


@pytest.mark.parametrize("line", MATERIALIZE_REQUESTS)
def test_materialize_requests_round_trip(line: str) -> None:
    assert roundtrip(materialize.Request, line) == line.encode() + b"\n"


@pytest.mark.parametrize("line", MATERIALIZE_RESPONSES)
def test_materialize_responses_round_trip(line: str) -> None:
    assert roundtrip(materialize.Response, line) == line.encode() + b"\n"


def test_every_message_has_a_golden_line() -> None:
    def names(lines: list[str]) -> set[str]:
        return {next(iter(orjson.loads(line))) for line in lines}

    assert names(CAPTURE_REQUESTS) == {
        f.alias or n for n, f in capture.Request.model_fields.items()
    }
    assert names(CAPTURE_RESPONSES) == {
        f.alias or n for n, f in capture.Response.model_fields.items()
    }
    assert names(MATERIALIZE_REQUESTS) == {
        f.alias or n for n, f in materialize.Request.model_fields.items()
    }
    assert names(MATERIALIZE_RESPONSES) == {
        f.alias or n for n, f in materialize.Response.model_fields.items()
    }


def test_packed_bytes_decode_from_base64() -> None:
    store = materialize.Request.model_validate_json(MATERIALIZE_REQUESTS[6]).store
    assert store is not None
    assert store.key_packed == b"\x27\x00"  # (True, None) as an FDB tuple
    load = materialize.Request.model_validate_json(MATERIALIZE_REQUESTS[4]).load
    assert load is not None
    assert load.key_packed == b"\x15\x2a\x02hi\x00"
    assert unpack(store.values_packed) == (3.14159, "field!")


def test_requests_ignore_fields_a_newer_runtime_adds() -> None:
    line = '{"open":{"capture":{"name":"a/b","futureField":1},"state":{}},"$internal":"EgJIaRgB"}'
    request = capture.Request.model_validate_json(line)
    assert request.open is not None
    assert request.open.capture.name == "a/b"


@pytest.mark.parametrize(
    ("model", "line"),
    [
        (capture.Response, '{"opened":{"explicitAcknowledgements":true,"extra":1}}'),
        (capture.Response, '{"checkpoint":{"state":{"updated":{},"merge_patchy":true}}}'),
        (materialize.Response, '{"flushed":{"state":{"updated":{}},"bogus":true}}'),
    ],
)
def test_responses_reject_fields_the_protocol_lacks(model: type, line: str) -> None:
    with pytest.raises(ValidationError):
        model.model_validate_json(line)


def test_unset_fields_are_left_out() -> None:
    assert capture.Response(opened=capture.Opened()).to_json_line() == b'{"opened":{}}\n'
    assert materialize.Response(opened=materialize.Opened()).to_json_line() == b'{"opened":{}}\n', (
        "a runtimeCheckpoint of {} would force a full re-read; it must be absent"
    )


def test_an_envelope_must_carry_exactly_one_message() -> None:
    with pytest.raises(ProtocolError, match="carries none"):
        _ = capture.Request.model_validate_json("{}").message
    with pytest.raises(ProtocolError, match="carries spec, discover"):
        _ = capture.Request.model_validate_json('{"spec":{},"discover":{}}').message
