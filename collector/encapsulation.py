"""What each configuration's encapsulation takes from the wire's MTU, and what that leaves of a
link's rate as TCP goodput. The collector sets the inner MTU from it; the report draws each
dataplane's ceiling from it. IPv4 underlay throughout."""

from dataclasses import dataclass

IPV4 = 20
UDP = 8
ETHERNET = 14
# What a full-sized TCP segment carries beside its payload: IPv4, TCP, and Linux's timestamps.
TCP_IP_TIMESTAMPS = 20 + 20 + 12
# What a frame costs on the wire beside its IP packet: preamble and SFD 8, Ethernet header 14,
# FCS 4, inter-frame gap 12.
ETHERNET_ON_WIRE = 38
ESP_HEADER, GCM_IV, GCM_ICV, ESP_TRAILER = 8, 8, 16, 2  # SPI + sequence; pad length + next hdr
ESP_ALIGN = 4


@dataclass(frozen=True)
class Encapsulation:
    name: str       # what the page calls it
    overhead: int   # bytes between the wire's IP packet and the inner one
    note: str


ENCAPSULATIONS: dict[str, Encapsulation] = {
    "ipip": Encapsulation("IP-in-IP", IPV4, "an outer IPv4 header"),
    "overlay": Encapsulation("VXLAN", IPV4 + UDP + 8 + ETHERNET,
                             "outer IPv4, UDP, VXLAN header, inner Ethernet"),
    "overlay-ovs": Encapsulation("OVS + VXLAN", IPV4 + UDP + 8 + ETHERNET,
                                 "outer IPv4, UDP, VXLAN header, inner Ethernet"),
    "geneve": Encapsulation("Geneve", IPV4 + UDP + 8 + ETHERNET,
                            "outer IPv4, UDP, Geneve header without options, inner Ethernet"),
    "wireguard": Encapsulation("WireGuard", IPV4 + UDP + 16 + 16,
                               "outer IPv4, UDP, WireGuard's 16 B header and 16 B "
                               "Poly1305 tag"),
    # The smallest overhead, for a payload that needs no padding; inner_mtu() does the rest.
    "ipsec": Encapsulation("IPsec ESP (AES-GCM)",
                           IPV4 + ESP_HEADER + GCM_IV + GCM_ICV + ESP_TRAILER,
                           "outer IPv4, ESP header, 8 B IV, padding to 4 B with its 2 B "
                           "trailer, 16 B ICV (tunnel mode)"),
}


def inner_mtu(configuration: str, mtu: int) -> int:
    """The MTU left inside the configuration's path on a wire of ``mtu`` (the wire's own for
    a configuration without encapsulation)."""
    found = ENCAPSULATIONS.get(configuration)
    if found is None:
        return mtu
    if configuration == "ipsec":
        # As the kernel's esp4_get_mtu: what fits between the headers and the ICV, cut down to
        # ESP's 4-byte alignment, less the trailer.
        room = mtu - IPV4 - ESP_HEADER - GCM_IV - GCM_ICV
        return room - room % ESP_ALIGN - ESP_TRAILER
    return mtu - found.overhead


def goodput_ceiling_gbps(link_gbps: float, configuration: str, mtu: int) -> float:
    """The most TCP payload a link of ``link_gbps`` carries per second through the
    configuration at wire MTU ``mtu``, every segment full-sized:
    link × (inner MTU - 52) / (wire MTU + 38)."""
    return link_gbps * (inner_mtu(configuration, mtu) - TCP_IP_TIMESTAMPS) / (
        mtu + ETHERNET_ON_WIRE)


def ceiling_ratio(configuration: str, mtu: int) -> float:
    """The configuration's ceiling over bare metal's at the same MTU: what its headers alone
    cost, at any link speed."""
    return ((inner_mtu(configuration, mtu) - TCP_IP_TIMESTAMPS)
            / (mtu - TCP_IP_TIMESTAMPS))
