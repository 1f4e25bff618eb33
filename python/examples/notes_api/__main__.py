"""Serve the Notes API: `python -m notes_api --port 8765 --notes 500`."""

import argparse
import sys

from aiohttp import web

from notes_api import TOKEN, make_app, seeded_store

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8765)
parser.add_argument("--notes", type=int, default=500, help="how many seeded notes")
args = parser.parse_args()
print(f"Notes API on http://{args.host}:{args.port} (token {TOKEN})", file=sys.stderr)
web.run_app(make_app(seeded_store(args.notes)), host=args.host, port=args.port, print=None)
