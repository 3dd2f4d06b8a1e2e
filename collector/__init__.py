"""dataplane-bench collector: builds topologies on two hosts over SSH, runs tools, archives."""

__version__ = "0.1.0"
