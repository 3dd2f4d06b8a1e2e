"""Hosts from the inventories these users already keep: an OpenSSH client config's `Host`
entries, or a group of an Ansible-style YAML inventory. Either gives how to reach each host;
the data address (which SSH configs do not hold) comes from `data_addresses`, or for Ansible
from a host's `data_address` variable."""

from pathlib import Path
from typing import Any

import paramiko

from . import yamlfile
from .errors import UsageError
from .hosts import Host, host_from_mapping

SSH_KEYS = {"ssh_config", "data_addresses"}
ANSIBLE_KEYS = {"ansible", "group", "data_addresses"}
WILDCARDS = set("*?!")


def is_inventory(raw: Any) -> bool:
    return isinstance(raw, dict) and bool({"ssh_config", "ansible"} & set(raw))


def hosts(raw: dict[str, Any], source: str) -> list[Host]:
    where = f"{source}: hosts"
    kind, allowed = (("ssh_config", SSH_KEYS) if "ssh_config" in raw else
                     ("ansible", ANSIBLE_KEYS))
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}",
                         f"an {kind} inventory takes {', '.join(sorted(allowed))}")
    path = Path(str(raw[kind])).expanduser()
    if not path.is_file():
        raise UsageError(f"{where}.{kind}: {path} does not exist or is not a file")
    addresses = raw.get("data_addresses") or {}
    if not isinstance(addresses, dict):
        raise UsageError(f"{where}.data_addresses: expected a mapping host → data address")
    if kind == "ssh_config":
        if not addresses:
            raise UsageError(f"{where}.data_addresses: needed with an ssh_config inventory",
                             "name each host to measure with its data address, e.g. "
                             "{lab-a: 198.18.0.1}: an SSH config says how to log in, not "
                             "which address carries the data")
        return [_from_ssh_config(path, str(name), address, f"{where}.data_addresses.{name}")
                for name, address in addresses.items()]
    return _from_ansible(path, raw.get("group", "all"), addresses, where)


def _from_ssh_config(path: Path, name: str, address: Any, where: str) -> Host:
    try:
        config = paramiko.SSHConfig.from_path(str(path))
    except (OSError, UnicodeDecodeError, paramiko.SSHException) as exc:
        raise UsageError(f"{path}: cannot read it as an OpenSSH client config ({exc})") from exc
    if not any(name == pattern for pattern in config.get_hostnames()
               if not WILDCARDS & set(pattern)):
        raise UsageError(f"{where}: {path} has no `Host {name}` entry",
                         "name hosts as their Host lines do (patterns are not expanded)")
    found = config.lookup(name)
    if "proxyjump" in found or "proxycommand" in found:
        raise UsageError(f"{where}: {path} reaches {name} through a jump host",
                         "hosts are reached directly (VMs may jump through their host)")
    keys = found.get("identityfile") or []
    mapping: dict[str, Any] = {"name": name, "ssh_host": found.get("hostname", name),
                               "data_address": address, "user": found.get("user", "root"),
                               "port": int(found.get("port", 22)),
                               "key": keys[0] if keys else None,
                               "known_hosts": found.get("userknownhostsfile")}
    return host_from_mapping({k: v for k, v in mapping.items() if v is not None}, where)


def _from_ansible(path: Path, group: Any, addresses: dict[Any, Any], where: str) -> list[Host]:
    document = yamlfile.load(path, "Ansible inventory")
    if not isinstance(document, dict):
        raise UsageError(f"{path}: an Ansible YAML inventory is a mapping of groups")
    found: dict[str, dict[str, Any]] = {}
    if not _collect(document, str(group), {}, found, path):
        raise UsageError(f"{where}.group: {path} has no group {group!r}",
                         f"its groups: {', '.join(sorted(_groups(document))) or 'none'}")
    if not found:
        raise UsageError(f"{where}.group: group {group!r} of {path} has no hosts")
    out = []
    for name, variables in found.items():
        mapping: dict[str, Any] = {
            "name": name, "ssh_host": variables.get("ansible_host", name),
            "data_address": addresses.get(name, variables.get("data_address")),
            "user": variables.get("ansible_user", "root"),
            "port": variables.get("ansible_port", 22),
            "key": variables.get("ansible_ssh_private_key_file"),
            "known_hosts": variables.get("known_hosts"),
            "sudo": variables.get("ansible_become", False)}
        if mapping["data_address"] is None:
            raise UsageError(f"{path}: host {name}: no data address",
                             "give it a data_address variable, or list it under the campaign's "
                             "hosts.data_addresses")
        out.append(host_from_mapping({k: v for k, v in mapping.items() if v is not None},
                                     f"{path}: host {name}"))
    return out


def _collect(groups: dict[str, Any], wanted: str, inherited: dict[str, Any],
             found: dict[str, dict[str, Any]], path: Path, inside: bool = False) -> bool:
    """The hosts of group ``wanted`` (and of its children), each with its variables: the
    groups' from the outermost in, then its own. True when the group was seen."""
    seen = False
    for name, group in groups.items():
        if not isinstance(group, dict):
            group = {}
        here = inside or name == wanted
        variables = {**inherited, **_mapping(group.get("vars"), path, f"{name}.vars")}
        if here:
            seen = True
            for host, own in _mapping(group.get("hosts"), path, f"{name}.hosts").items():
                found[str(host)] = {**found.get(str(host), {}), **variables,
                                    **_mapping(own, path, f"{name}.hosts.{host}")}
        children = _mapping(group.get("children"), path, f"{name}.children")
        if children and _collect(children, wanted, variables, found, path, here):
            seen = True
    return seen


def _groups(groups: dict[str, Any]) -> set[str]:
    names = set(map(str, groups))
    for group in groups.values():
        if isinstance(group, dict) and isinstance(group.get("children"), dict):
            names |= _groups(group["children"])
    return names


def _mapping(value: Any, path: Path, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{path}: {where}: expected a mapping, got {type(value).__name__}")
    return value
