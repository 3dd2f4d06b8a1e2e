"""Thin, typed helpers over iproute2 (`ip -j` JSON), for the lab's own plumbing."""

import json
from typing import Any

from .. import local


def _ip(*args: str, netns: str | None = None) -> list[str]:
    return ["ip", *(("-n", netns) if netns else ()), *args]


def ip(*args: str, netns: str | None = None) -> None:
    local.run(_ip(*args, netns=netns))


def namespaces() -> set[str]:
    out = local.run(["ip", "netns", "list"]).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def link(name: str, netns: str | None = None) -> dict[str, Any] | None:
    """The `ip -j addr show dev NAME` record of a link, or None when it does not exist."""
    proc = local.run(_ip("-j", "addr", "show", "dev", name, netns=netns), check=False)
    if proc.returncode != 0:
        return None
    records: list[dict[str, Any]] = json.loads(proc.stdout or "[]")
    return records[0] if records else None


def addresses(record: dict[str, Any]) -> set[str]:
    return {f"{a['local']}/{a['prefixlen']}" for a in record.get("addr_info", [])
            if a.get("family") == "inet"}


def is_up(record: dict[str, Any]) -> bool:
    return "UP" in record.get("flags", [])


def default_gateway(netns: str) -> str | None:
    proc = local.run(_ip("-j", "route", "show", "default", netns=netns), check=False)
    routes: list[dict[str, Any]] = json.loads(proc.stdout or "[]") if proc.returncode == 0 else []
    return str(routes[0]["gateway"]) if routes and "gateway" in routes[0] else None


def netns_pids(netns: str) -> list[int]:
    proc = local.run(["ip", "netns", "pids", netns], check=False)
    return [int(p) for p in proc.stdout.split()] if proc.returncode == 0 else []


def delete_link(name: str, netns: str | None = None) -> bool:
    return local.run(_ip("link", "del", "dev", name, netns=netns), check=False).returncode == 0
