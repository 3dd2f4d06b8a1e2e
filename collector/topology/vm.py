"""vm: one VM per host, VM→VM, VM→host and host→VM. The VMs exist already (the user's, or the
lab's qemu guests); this configuration routes between them and sets their MTU.

A VM marked `routed` lives behind its host the way Calico routes OpenStack VMs (a /32 route to
its tap): the other host gets a route to it via this host's data address, and hosts forward.
Other VMs (bridged onto the data network, say) are reached as they are.
"""

from ..connection import Connection
from ..endpoint import Endpoint
from ..errors import BenchError
from ..namespace import Namespace
from .base import Script, Topology
from .netns import forwarding_on


class Vm(Topology):
    name = "vm"

    def _routes(self, i: int) -> Script:
        """Host i's routes to the other host's VM, when that VM is routed by its host."""
        peer = self.pair.vms[1 - i]
        if not peer.routed:
            return []
        return [["ip", "route", "replace", f"{peer.target.data_address}/32",
                 "via", self.pair.data_address(1 - i), "dev", self.pair.data_ifs[i]]]

    def build(self, mtu: int) -> None:
        self.teardown()
        for i in (0, 1):
            vm = self.pair.vms[i]
            routed = vm.routed or self.pair.vms[1 - i].routed
            script: Script = [*forwarding_on(), *self._routes(i)] if routed else []
            if vm.host_interface:
                script.append(["ip", "link", "set", "dev", vm.host_interface, "mtu", str(mtu)])
            if script:
                self.pair.apply(i, script, f"building the {self.name} configuration")
            guest = self.pair.guests[i].remote
            res = guest.run(["ip", "link", "set", "dev", self.pair.guest_ifs[i], "mtu", str(mtu)],
                            timeout=30)
            if not res.ok:
                raise BenchError(f"{guest.host.describe()}: cannot set MTU {mtu} on "
                                 f"{self.pair.guest_ifs[i]}: {res.stderr.strip()}",
                                 "the VM's NIC must take the campaign's MTUs (virtio-net does)")

    def teardown(self) -> None:
        for i in (0, 1):
            peer = self.pair.vms[1 - i]
            if peer.routed:
                self.pair.apply_tolerant(i, [["ip", "route", "del",
                                              f"{peer.target.data_address}/32"]])

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        paths = super().path_interfaces()
        for i in (0, 1):
            if self.pair.vms[i].host_interface:
                paths.append((self.pair.hosts[i], None, str(self.pair.vms[i].host_interface)))
            paths.append((self.pair.guests[i], None, self.pair.guest_ifs[i]))
        return paths

    def _vm(self, i: int) -> Endpoint:
        vm = self.pair.vms[i]
        return Endpoint("vm", self.pair.hosts[i], vm.target.data_address,
                        guest=self.pair.guests[i], vm_name=vm.name)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        return {
            "vm-vm": (self._vm(0), self._vm(1)),
            "vm-host": (self._vm(0), self.pair.host(1)),
            "host-vm": (self.pair.host(0), self._vm(1)),
        }[direction]
