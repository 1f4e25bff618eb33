"""What the credentials may read: Jira Software, global permissions, the chosen projects.

Discovery offers a stream only when the account can read it, so a limited account gets
a capture that runs instead of one that fails on its first 403.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from connector_kit.errors import ConfigError
from connector_kit.http import HTTPClient
from source_jira import api


class Need(enum.Enum):
    NOTHING = "nothing"
    JIRA_SOFTWARE = "a Jira Software license (boards and sprints)"
    BROWSE_USERS = "the global permission Browse users and groups"
    ADMINISTER = "the global permission Administer Jira"


_PERMISSION_KEYS = {Need.BROWSE_USERS: "USER_PICKER", Need.ADMINISTER: "ADMINISTER"}


@dataclass(frozen=True, kw_only=True)
class Access:
    granted: frozenset[Need]

    def allows(self, need: Need) -> bool:
        return need is Need.NOTHING or need in self.granted


async def discover_access(http: HTTPClient) -> Access:
    permissions = await api.fetch_my_permissions(http, keys=sorted(_PERMISSION_KEYS.values()))
    granted = {need for need, key in _PERMISSION_KEYS.items() if permissions.get(key)}
    if Need.ADMINISTER in granted:
        granted.add(Need.BROWSE_USERS)  # Jira administrators may browse users and groups.
    if await api.fetch_has_jira_software(http):
        granted.add(Need.JIRA_SOFTWARE)
    return Access(granted=frozenset(granted))


async def resolve_projects(http: HTTPClient, *, wanted: Sequence[str]) -> list[str]:
    """The keys of the configured projects (given as keys or ids), checked against the site."""
    if not wanted:
        return []
    visible = await api.fetch_projects(http)
    by_key = {p.key.upper(): p.key for p in visible}
    by_id = {p.id: p.key for p in visible}
    keys: list[str] = []
    unknown: list[str] = []
    for ref in wanted:
        key = by_id.get(ref) or by_key.get(ref.upper())
        if key is None:
            unknown.append(ref)
        elif key not in keys:
            keys.append(key)
    if unknown:
        shown = ", ".join(sorted(by_key.values())[:20]) or "none"
        raise ConfigError(
            f"`projects` names {', '.join(unknown)}, which the account cannot see on this site; "
            f"give project keys or ids it can browse (it sees: {shown})"
        )
    return keys
