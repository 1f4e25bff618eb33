"""Run existing Airbyte sources and Singer taps as Flow captures.

`shims.airbyte` wraps an airbyte-cdk `Source` in-process or any Airbyte source
executable; `shims.singer` wraps any Singer tap executable. Both translate the
delegate's catalog into Flow bindings, its records into `captured` documents and
its state into merge-patch checkpoints that touch only the bindings a state
message covers. The pieces they share live beside them: the request loop
(`serve`), delegate processes (`process`), schema and key helpers (`schemas`),
delegate state kept opaque inside Flow state (`opaque_state`) and row ids and
deletions for keyless streams (`rows`).
"""
