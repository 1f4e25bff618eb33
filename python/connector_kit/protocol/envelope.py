"""The one-message-per-line envelope: exactly one field of a request/response is set."""

from __future__ import annotations

from pydantic import BaseModel

from connector_kit.errors import ProtocolError


def message_name(envelope: BaseModel) -> str:
    """The JSON name of the single message an envelope carries, or a ProtocolError."""
    names = [
        field.alias or name
        for name, field in type(envelope).model_fields.items()
        if getattr(envelope, name) is not None
    ]
    if len(names) != 1:
        expected = ", ".join(f.alias or n for n, f in type(envelope).model_fields.items())
        found = ", ".join(names) if names else "none"
        raise ProtocolError(
            f"a {type(envelope).__name__} must carry exactly one message of ({expected}); "
            f"this one carries {found}"
        )
    return names[0]
