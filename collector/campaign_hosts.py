"""A campaign's `hosts` and `vms`: the lab's, a hosts file's, listed in the campaign, or taken
from an inventory (collector/inventory.py). Two hosts or more, each named once."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import inventory
from .errors import UsageError
from .hosts import Host, Vm, host_from_mapping, load_hosts, load_vms, vm_from_mapping

T = TypeVar("T")
MAX_HOSTS = 64


def _listed(value: Any, key: str, source: str, lab_hosts_file: Path | None,
            from_file: Callable[[Path], list[T]], from_mapping: Callable[[Any, str], T],
            lab_hint: str, expected: str, hint: str = "") -> list[T]:
    """Hosts or VMs given as 'lab' (the lab's hosts file), a hosts-file path, or a list."""
    if value == "lab":
        if lab_hosts_file is None:
            raise UsageError(f"{source}: {key}: 'lab' but no lab is known", lab_hint)
        return from_file(lab_hosts_file)
    if isinstance(value, str):
        return from_file(Path(value).expanduser())
    if isinstance(value, list):
        return [from_mapping(x, f"{source}: {key}[{i}]") for i, x in enumerate(value)]
    raise UsageError(f"{source}: {key}: expected 'lab', a hosts file path or {expected}", hint)


def hosts(raw: Any, source: str, lab_hosts_file: Path | None) -> tuple[Host, ...]:
    if inventory.is_inventory(raw):
        found = inventory.hosts(raw, source)
    else:
        found = _listed("lab" if raw is None else raw, "hosts", source, lab_hosts_file,
                        load_hosts, host_from_mapping,
                        "bring it up with `invoke lab.up`, or list your hosts",
                        "a list of host mappings, {ssh_config: ...} or {ansible: ...}, got "
                        f"{type(raw).__name__}",
                        "see docs/campaign.md#hosts-and-pairs")
    if not 2 <= len(found) <= MAX_HOSTS:
        raise UsageError(f"{source}: hosts: 2 to {MAX_HOSTS} hosts are needed, got {len(found)}")
    names = [h.name for h in found]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"{source}: hosts: {names.count(name)} hosts are named {name!r}",
                             "give every host a name of its own")
    return tuple(found)


def vms(raw: dict[str, Any], source: str, lab_hosts_file: Path | None,
        hosts: tuple[Host, ...]) -> tuple[Vm, ...]:
    """The campaign's VMs: listed under vms:, or those of the hosts file its hosts come from."""
    value = raw.get("vms")
    if value is None:
        where = raw.get("hosts")
        if where == "lab" and lab_hosts_file is not None:
            value = "lab"
        elif isinstance(where, str) and where != "lab":
            value = where
        else:
            return ()
    found = _listed(value, "vms", source, lab_hosts_file, load_vms, vm_from_mapping,
                    "bring it up with `invoke lab.up --vms`",
                    "a list of VMs", "see docs/campaign.md")
    names = [h.name for h in hosts]
    for vm in found:
        if vm.host not in names:
            raise UsageError(f"{source}: vms: {vm.name} runs on {vm.host!r}, which is not one "
                             f"of the campaign's hosts ({', '.join(names)})")
    seen = [vm.host for vm in found]
    for name in names:
        if seen.count(name) > 1:
            raise UsageError(f"{source}: vms: {name} has {seen.count(name)} VMs",
                             "list one VM per host: the vm configuration measures one pair")
    return tuple(found)
