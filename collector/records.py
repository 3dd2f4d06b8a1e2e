"""The archive's manifest and run record, typed: the collector writes every record through
RunRecord and every new manifest through Manifest; the reporter reads every manifest through
Manifest (an archive whose manifest does not validate is refused, naming the key) and every
record through RunRecord (one that does not validate is a problem of that run, named on the
Problems page); synthetic archives are made with both. Their JSON Schema is in
docs/archive-format.md (`python -m collector.records --doc` rewrites it there; a test keeps the
two equal).

Pydantic only: the reporter imports this without the collector's SSH stack."""

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .benchdoc import write_section

Status = Literal["running", "ok", "failed", "timeout"]


# Run records' topology keys of each host's existing endpoint: its description, and its
# namespace's identity (net:[inode]); the reporter reads the first.
ENDPOINT_DETAIL = "endpoint:"
NAMESPACE_DETAIL = "netns-id:"

class _Record(BaseModel):
    # Unknown keys are refused: a typo in the collector fails its tests, and a record edited
    # by hand says which key it does not know.
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointRecord(_Record):
    """Where a tool ran."""

    role: str = Field(description="host, container, veth namespace, overlay member, vm")
    host: str = Field(description="the machine it lives on (a host's name)")
    address: str = Field(description="the address the tool used there")
    netns: str | None = Field(None, description="the network namespace, if not the root one")
    vm: str | None = Field(None, description="the VM's name, for VM endpoints")
    pid: int | None = Field(None, description="a process whose network namespace it ran in "
                                              "(an existing endpoint named by PID)")


class Commands(_Record):
    server: str
    client: str


class ExitCodes(_Record):
    client: int | None = Field(description="the client's exit code; null when it never ran")


class CpuAffinity(_Record):
    """The CPU each side's tool was pinned to (`taskset -c`); null: that side unpinned (a VM
    guest)."""

    client: int | None = Field(None, ge=0)
    server: int | None = Field(None, ge=0)


class RunRecord(_Record):
    """One run, as manifest.json's `runs` holds it under its run id."""

    run_id: str
    cell_id: str
    configuration: str
    direction: str
    tool: str
    test: str
    message_size: int = Field(ge=1, description="bytes per send()")
    socket_buffer: str = Field(description="auto or message")
    mtu: int = Field(ge=68)
    streams: int = Field(1, ge=1, description="concurrent TCP flows (stream tests)")
    tuning: str = Field("untuned", description="the tuning profile in force (absent: untuned)")
    pair: str = Field("", description="the node pair, sender~receiver host names (absent: the "
                                      "campaign's two hosts, the first sending)")
    repetition: int = Field(ge=1)
    cpu_affinity: CpuAffinity | None = Field(None, description="the CPUs the tools were pinned "
                                                              "to (absent: unpinned)")
    client: EndpointRecord
    server: EndpointRecord
    duration_s: int = Field(gt=0, description="the measurement window's length, s")
    warmup_s: int | float = Field(ge=0, description="when the window opens after the client "
                                                    "starts, s")
    cpu_hosts: list[str] = Field(description="kernels whose /proc/stat was sampled")
    topology: dict[str, str] = Field(
        default_factory=dict, description="facts about the build: ovs_datapath; for existing, "
                                          "endpoint:<host> (what was found) and netns-id:<host>")
    status: Status
    reason: str = ""
    start_utc: str
    end_utc: str | None = None
    path_mtus: dict[str, int] = Field(default_factory=dict,
                                      description="host[:netns]:device -> MTU read back")
    commands: Commands
    exit_codes: ExitCodes | None = None
    files: dict[str, str] = Field(
        default_factory=dict,
        description="client_stdout, client_stderr, server_stdout, server_stderr, cpu:<host>, "
                    "tcp:client, tcp:server -> paths relative to the archive")

    @model_validator(mode="after")
    def _finished_runs_say_how(self) -> "RunRecord":
        if self.status != "running" and self.end_utc is None:
            raise ValueError(f"a {self.status} run needs end_utc")
        if self.status in ("failed", "timeout") and not self.reason:
            raise ValueError(f"a {self.status} run needs a reason")
        if self.status == "ok" and "client_stdout" not in self.files:
            raise ValueError("an ok run needs files.client_stdout")
        return self


class TuningState(_Record):
    """What the campaign's tuning profiles touch on a host or VM, as it was before."""

    sysctls: dict[str, str] = Field(default_factory=dict,
                                    description="every key a profile sets -> its value before")
    kernel_wide: list[str] = Field(
        default_factory=list,
        description="keys read-only in the host's network namespace and so set in the "
                    "kernel's initial one: global to a kernel the hosts share (the namespace "
                    "lab), and to the machine itself")
    offloads: dict[str, dict[str, bool]] = Field(
        default_factory=dict, description="data interface -> every feature ethtool can "
                                          "change there -> on, before")


class HostState(_Record):
    """A host's or VM's settings before the campaign changed any, restored at its end."""

    data_if: str
    mtu: int
    ip_forward: str | None = Field(None, description="net.ipv4.ip_forward (hosts only)")
    other_mtus: dict[str, int] = Field(default_factory=dict,
                                       description="VM host-side interfaces -> MTU")
    conf_sysctls: dict[str, str] = Field(
        default_factory=dict, description="net.ipv4.conf.all.* and .default.* (hosts only): "
                                          "building tunnels and forwarding can change them")
    tuning: TuningState | None = Field(None, description="what the tuning profiles set, "
                                                          "before (campaigns with tuning)")
    modules: list[str] | None = Field(
        None, description="kernel modules loaded before (None: /proc/modules unreadable, e.g. "
                          "a namespace of the lab machine)")


class Manifest(BaseModel):
    """manifest.json. Not frozen: the collector updates it as the campaign goes."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int
    harness: dict[str, str] = Field(description="name, version, commit, dirty")
    created_utc: str
    updated_utc: str = ""
    state: Literal["running", "stopped", "complete"]
    state_reason: str = ""
    campaign: dict[str, Any] = Field(description="the campaign as parsed (what resume reads)")
    plan: list[str] = Field(description="run ids, in the order they run; adaptive rounds "
                                        "append theirs")
    host_state: dict[str, HostState] = Field(default_factory=dict)
    runs: dict[str, Any] = Field(description="run id -> RunRecord; each checked on its own, "
                                             "so a bad record is a problem of its run only")


def problem(exc: ValidationError) -> str:
    """The first thing wrong with a record, for the Problems page: `field.path: message`."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return (f"record: {where}: {err['msg']}" if where else f"record: {err['msg']}")[:300]


def validated(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the archive stores it, after checking it: the keys it was given, JSON types."""
    return RunRecord.model_validate(record).model_dump(mode="json", exclude_unset=True)


def manifest_problem(exc: ValidationError) -> str:
    """What is wrong with a manifest: `key.path: message` (the first few)."""
    said = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        said.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(said)[:400]


def json_schema() -> dict[str, Any]:
    """Both models' schemas: the manifest's, and the run record's under `$defs`."""
    schema = Manifest.model_json_schema()
    record = RunRecord.model_json_schema()
    schema.setdefault("$defs", {}).update(record.pop("$defs", {}))
    schema["$defs"]["RunRecord"] = record
    schema["properties"]["runs"]["additionalProperties"] = {"$ref": "#/$defs/RunRecord"}
    return schema


SCHEMA_DOC = Path(__file__).resolve().parent.parent / "docs" / "archive-format.md"
SCHEMA_SECTION = "run-record-schema"


def schema_section() -> str:
    """The JSON Schema block of docs/archive-format.md."""
    return ("```json\n" + json.dumps(json_schema(), indent=1, sort_keys=True) + "\n```")


if __name__ == "__main__":
    if sys.argv[1:] == ["--doc"]:  # rewrite the block in docs/archive-format.md
        write_section(SCHEMA_SECTION, schema_section(), SCHEMA_DOC)
    else:
        json.dump(json_schema(), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
