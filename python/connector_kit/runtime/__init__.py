"""The local Flow-compatible runtime: catalogs, sops, connector processes, and the capture
and materialization drivers behind `connector-kit raw spec|discover`, `preview` and `run`.

It drives any Flow connector as a subprocess, so it imports only the protocol
models, the wire helpers and the tuple codec, never the connector frameworks.
"""
