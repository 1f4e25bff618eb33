"""tap-jsonl, a singer-sdk tap, served as an Estuary Flow capture."""

from tap_jsonl.tap import TapJsonl

from connector_kit.shims import singer


def main() -> None:
    # The tap runs as a child process of this connector, speaking Singer on its own stdout.
    singer.run_tap(
        singer.SingerTap.from_sdk_class(TapJsonl),
        documentation_url="https://hub.meltano.com/extractors/tap-jsonl",
    )
