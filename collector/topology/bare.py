"""bare: host → host over the data addresses. Nothing to build."""

from ..endpoint import Endpoint
from .base import Topology


class Bare(Topology):
    name = "bare"

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        return self.pair.a.endpoint, self.pair.b.endpoint
