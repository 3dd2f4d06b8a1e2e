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
from .base import Script, Side, Topology
from .netns import forwarding_on


class Vm(Topology):
    name = "vm"

    def _routes(self, side: Side) -> Script:
        """The side's routes to the other side's VM, when that VM is routed by its host."""
        peer = self.pair.peer(side)
        if not peer.vm_on().routed:
            return []
        return [["ip", "route", "replace", f"{peer.vm_on().target.data_address}/32",
                 "via", peer.data_address, "dev", side.data_if]]

    def build(self, mtu: int) -> None:
        self.teardown()
        for side in self.pair.sides:
            vm = side.vm_on()
            routed = vm.routed or self.pair.peer(side).vm_on().routed
            script: Script = [*forwarding_on(), *self._routes(side)] if routed else []
            if vm.host_interface:
                script.append(["ip", "link", "set", "dev", vm.host_interface, "mtu", str(mtu)])
            if script:
                side.apply(script, f"building the {self.name} configuration")
            guest = side.guest_on().remote
            res = guest.run(["ip", "link", "set", "dev", side.guest_if, "mtu", str(mtu)],
                            timeout=30)
            if not res.ok:
                raise BenchError(f"{guest.host.describe()}: cannot set MTU {mtu} on "
                                 f"{side.guest_if}: {res.stderr.strip()}",
                                 "the VM's NIC must take the campaign's MTUs (virtio-net does)")

    def teardown(self) -> None:
        for side in self.pair.sides:
            peer = self.pair.peer(side).vm_on()
            if peer.routed:
                side.apply_tolerant([["ip", "route", "del", f"{peer.target.data_address}/32"]])

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        paths = super().path_interfaces()
        for side in self.pair.sides:
            if side.vm_on().host_interface:
                paths.append((side.host, None, str(side.vm_on().host_interface)))
            paths.append((side.guest_on(), None, side.guest_if))
        return paths

    def _vm(self, side: Side) -> Endpoint:
        vm = side.vm_on()
        return Endpoint("vm", side.host, vm.target.data_address, guest=side.guest_on(),
                        vm_name=vm.name)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = self.pair.sides
        return {
            "vm-vm": (self._vm(a), self._vm(b)),
            "vm-host": (self._vm(a), b.endpoint),
            "host-vm": (a.endpoint, self._vm(b)),
        }[direction]
