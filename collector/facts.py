"""Facts about a host, collected raw at campaign start and end: kernel, boot id, CPU, memory,
interfaces on the path (driver, offloads, speed, MTU, queue discipline), networking sysctls,
tool versions."""

import shlex
from collections.abc import Sequence

SECTION = "### "
SYSCTLS = (
    "net.core.rmem_max", "net.core.wmem_max", "net.core.rmem_default", "net.core.wmem_default",
    "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_mem",
    "net.ipv4.tcp_congestion_control", "net.ipv4.tcp_autocorking", "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_sack", "net.ipv4.tcp_window_scaling", "net.ipv4.tcp_no_metrics_save",
    "net.core.default_qdisc", "net.core.netdev_max_backlog", "net.ipv4.ip_forward",
)


def script(interfaces: Sequence[str]) -> str:
    """A POSIX sh script printing one `### name` section per fact; missing tools are noted."""
    sections: list[tuple[str, str]] = [
        ("uname", "uname -a"),
        ("cmdline", "cat /proc/cmdline"),
        ("boot_id", "cat /proc/sys/kernel/random/boot_id"),
        ("hostname", "hostname"),
        ("os-release", "cat /etc/os-release"),
        ("cpu-model", "grep -m1 '^model name' /proc/cpuinfo"),
        ("cpu-count", "nproc --all"),
        ("meminfo", "head -n 3 /proc/meminfo"),
        ("ip-addr", "ip -j addr show"),
        ("ip-route", "ip -j route show"),
        ("sysctl", "sysctl " + " ".join(SYSCTLS)),
        ("version-qperf", "qperf --version"),
        ("version-iperf3", "iperf3 --version"),
        ("version-ovs", "ovs-vsctl --version"),
        ("version-ethtool", "ethtool --version"),
    ]
    for dev in interfaces:
        q = shlex.quote(dev)
        sections += [(f"ethtool-driver {dev}", f"ethtool -i {q}"),
                     (f"ethtool-offloads {dev}", f"ethtool -k {q}"),
                     (f"ethtool-link {dev}", f"ethtool {q}"),
                     (f"mtu {dev}", f"cat /sys/class/net/{q}/mtu"),
                     # a rate limit or a queue discipline on the data NIC explains a slow host
                     (f"qdisc {dev}", f"tc qdisc show dev {q}")]
    return "\n".join(f"echo {shlex.quote(SECTION + name)}; {{ {cmd}; }} 2>&1 || echo '(failed)'"
                     for name, cmd in sections)
