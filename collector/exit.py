"""Process exit codes shared by every command of the project."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    NOT_ROOT = 3
    UNSUPPORTED_SYSTEM = 4
    LAB_BROKEN = 5
    HOST_UNREACHABLE = 6
    HOST_KEY_REJECTED = 7
    LAB_DOWN = 8
    REGRESSION = 9  # invoke compare: a cell got significantly worse beyond the tolerance
    NOTHING_COMPARED = 10  # invoke compare: no cell metric could be judged (a gate on nothing)
