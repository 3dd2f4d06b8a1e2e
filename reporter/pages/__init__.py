"""The site's pages: one module per page (or per family of pages), each ending in its
registration (reporter/pages/page.py), and NAV, the order the site lists them in. A new page
is a module here, a template templates/SLUG.md.j2 and a line in NAV."""

from . import (
    compare,
    connections,
    cpu,
    encapsulation,
    history,
    latency,
    loaded,
    mtu,
    node_pairs,
    reference,
    statistics,
    streams,
    summary,
    throughput,
    tools,
    tuning,
    udp,
    veth_control,
)
from .page import Page

NAV: list[Page] = [
    summary.PAGE,
    throughput.PAGE,
    cpu.PAGE,
    cpu.PER_GBPS,
    latency.PAGE,
    mtu.PAGE,
    veth_control.PAGE,
    encapsulation.PAGE,
    tuning.PAGE,
    tools.PAGE,
    streams.PAGE,
    udp.PAGE,
    connections.PAGE,
    loaded.PAGE,
    node_pairs.PAGE,
    compare.PAGE,
    history.PAGE,
    statistics.PAGE,
    reference.ENVIRONMENT,
    reference.METHODOLOGY,
    reference.RUNS,
    reference.PROBLEMS,
]
