"""The state file of a population screen: what run this is and which shards are done.

It lives in the run's work folder beside the output (``OUT.work/state.json``)
and is replaced atomically (written to a temporary file, fsynced, renamed), so
after a kill it is either the old state or the new one, never half of each. A
shard is marked done only after its part file is on disk.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isotrack.population.summary import Summary

FORMAT = 1


@dataclass
class RunState:
    identity: dict[str, Any]
    """The export's fingerprint and the options: a resume needs the same."""
    shards: int
    partitioned: bool = False
    partition: dict[str, Any] = field(default_factory=dict)
    done: dict[int, Summary] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "identity": self.identity,
            "shards": self.shards,
            "partitioned": self.partitioned,
            "partition": self.partition,
            "done": {str(k): v.to_json() for k, v in sorted(self.done.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        return cls(
            identity=data["identity"],
            shards=int(data["shards"]),
            partitioned=bool(data["partitioned"]),
            partition=dict(data.get("partition", {})),
            done={int(k): Summary.from_json(v) for k, v in data.get("done", {}).items()},
        )

    def total(self) -> Summary:
        summary = Summary()
        for shard in sorted(self.done):
            summary.merge(self.done[shard])
        return summary


def load_state(path: Path) -> RunState | None:
    """The saved state, or None when there is none or it cannot be read (a fresh start)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None
        return RunState.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_state(path: Path, state: RunState) -> None:
    write_atomically(path, json.dumps(state.to_json(), indent=1).encode("utf-8"))


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
