"""Node pairs measured at the same time go in step: each waits at every step until the others
arrive, so their runs (and each run's clients) start together. A pair that is done or failed
leaves, and the others stop waiting for it — unlike threading.Barrier, whose party count is
fixed, and which would hang the rest on a pair that ended early."""

import threading

STEP_TIMEOUT_S = 600.0  # a pair stuck longer than this (a hung host) is left behind


class Lockstep:
    def __init__(self, parties: int) -> None:
        self._parties = parties
        self._arrived = 0
        self._generation = 0
        self._cond = threading.Condition()

    def wait(self) -> None:
        """Until every pair still in step has arrived here too (or the step timed out)."""
        with self._cond:
            generation = self._generation
            self._arrived += 1
            if self._arrived >= self._parties:
                self._release()
                return
            self._cond.wait_for(lambda: self._generation != generation, STEP_TIMEOUT_S)
            if self._generation == generation:  # timed out: go on without the late ones
                self._release()

    def leave(self) -> None:
        """This pair takes no more steps (it finished, or failed)."""
        with self._cond:
            self._parties -= 1
            if self._parties > 0 and self._arrived >= self._parties:
                self._release()

    def _release(self) -> None:
        self._arrived = 0
        self._generation += 1
        self._cond.notify_all()


class Alone:
    """One pair, or pairs one after the other: nothing to wait for."""

    def wait(self) -> None:
        return

    def leave(self) -> None:
        return
