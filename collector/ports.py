"""The ports the tools listen on. Each run takes two (a tool's control port and the one above
it for data or extra flows), rotating through a fixed window, so a socket the run before left
in TIME_WAIT is never the next one's."""

from dataclasses import dataclass

CAMPAIGN_BASE = 19300  # invoke collect's runs
BENCH_BASE = 19600  # invoke bench.tools': its own window, so it can run beside a campaign
PER_RUN = 2
IN_TURN = 50  # runs before a port comes round again


@dataclass
class Ports:
    base: int = CAMPAIGN_BASE
    taken: int = 0  # runs given a port so far

    def at(self, run: int) -> int:
        """The port of the ``run``-th run (counted from 0)."""
        return self.base + PER_RUN * (run % IN_TURN)

    def next(self) -> int:
        """The next run's port."""
        port = self.at(self.taken)
        self.taken += 1
        return port
