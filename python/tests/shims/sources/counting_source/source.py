"""`numbers` (incremental by `n`, keyed by `id`) and `letters` (full refresh, no key).

With `noisy: true` it also writes to stdout in every way third-party code does.
"""

import logging
import os
import sys

from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import IncrementalMixin, Stream

logger = logging.getLogger("airbyte.counting")


class Numbers(Stream, IncrementalMixin):
    primary_key = "id"
    cursor_field = "n"
    state_checkpoint_interval = 2

    def __init__(self, count, noisy):
        super().__init__()
        self.count = count
        self.noisy = noisy
        self._state = {}

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, value):
        self._state = dict(value or {})

    def get_json_schema(self):
        return {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "n": {"type": "integer"}},
        }

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None):
        start = int((stream_state or self._state or {}).get("n", 0))
        for n in range(start + 1, self.count + 1):
            if self.noisy and n == start + 1:
                print("noise from print()")
                sys.__stdout__.write("noise on sys.__stdout__\n")
                sys.__stdout__.flush()
                os.write(1, b"noise on fd 1\n")
                logger.info("a log line from the source")
            yield {"id": n, "n": n}
            self._state = {"n": n}


class Letters(Stream):
    primary_key = None

    def get_json_schema(self):
        return {"type": "object", "properties": {"letter": {"type": "string"}}}

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None):
        for letter in "abc":
            yield {"letter": letter}


class CountingSource(AbstractSource):
    def check_connection(self, logger, config):
        if str(config.get("api_key")).startswith("wrong"):
            return False, "the API key was rejected"
        return True, None

    def streams(self, config):
        return [Numbers(int(config["count"]), bool(config.get("noisy"))), Letters()]
