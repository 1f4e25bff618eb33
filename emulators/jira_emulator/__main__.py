"""`python -m jira_emulator`: serve a seeded emulated Jira Cloud site until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from .server import JiraEmulator
from .settings import EmulatorSettings, SearchSettings, SeedSettings


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jira_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument(
        "--heavy-fraction",
        type=float,
        default=0.06,
        help="share of issues with more children than Jira embeds",
    )
    parser.add_argument(
        "--consistency-delay",
        type=float,
        default=0.0,
        help="seconds before a change becomes visible to JQL search",
    )
    parser.add_argument(
        "--page-cap",
        type=int,
        default=100,
        help="most issues per search page when fields are requested",
    )
    parser.add_argument(
        "--jitter-pages", action="store_true", help="vary search page sizes (short non-last pages)"
    )
    parser.add_argument(
        "--start-time",
        type=datetime.fromisoformat,
        default=None,
        help="emulated 'now' at start-up, ISO 8601 with an offset (default: the real time)",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    settings = EmulatorSettings(
        seed=SeedSettings(
            seed=args.seed,
            issues=args.issues,
            projects=args.projects,
            users=args.users,
            heavy_fraction=args.heavy_fraction,
        ),
        search=SearchSettings(fields_page_cap=args.page_cap, jitter_page_sizes=args.jitter_pages),
        consistency_delay_s=args.consistency_delay,
        start_time=args.start_time,
    )
    emulator = JiraEmulator(settings)
    base_url = await emulator.start(host=args.host, port=args.port)
    account = emulator.primary_account
    lines = [
        f"Jira emulator serving {len(emulator.site.current)} issues at {base_url}",
        f"  email:        {account.user.email}",
        f"  api token:    {account.api_token}",
        f"  oauth token:  {account.oauth_access_token}",
        f"  oauth base:   {base_url}/ex/jira/{emulator.site.cloud_id}",
        f"  time zone:    {account.user.time_zone}",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    try:
        asyncio.run(_serve(_parse(argv)))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
