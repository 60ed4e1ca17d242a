"""The rehearsal's faults on AWS: find the observability layer's FIS experiment templates, start each at its time,
follow it to its end, and record it as `FaultRecord` (times in seconds since the load started, the shape
`rehearsal_faults.Injection` reads: name, started_s, ended_s).

Where the templates' ids come from: the observability stack's output `faultExperimentTemplateIds` (fault -> id)
when the layer exports it; until then, FIS's own list, by the tags every observability template carries
(`Layer=observability`, `Environment=<suffix>`, `Name=<fault>`: projects/observability/faults.py and the layer's tag
transform).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.ops.rehearsal import ScheduledFault
from shared.runtime.errors import CatalogError

TEMPLATE_IDS_OUTPUT = "faultExperimentTemplateIds"
DONE = ("completed", "stopped", "failed", "cancelled")


@dataclass(frozen=True)
class FaultRecord:
    name: str
    started_s: float  # seconds since the load started (t = 0 of Locust's history)
    ended_s: float | None  # None: still running when the run ended (it was then stopped)
    state: str  # FIS's experiment state: completed, stopped, failed, ...
    reason: str
    experiment_id: str


def template_ids(fis: Any, suffix: str, observability_outputs: Mapping[str, Any],
                 wanted: Sequence[ScheduledFault]) -> dict[str, str]:
    """fault -> experiment template id for every requested fault; one refusal naming the config when one is missing."""
    names = sorted({f.name for f in wanted})
    if not names:
        return {}
    exported = observability_outputs.get(TEMPLATE_IDS_OUTPUT)
    found: dict[str, str] = dict(exported) if isinstance(exported, Mapping) else {}
    if not found:
        for page in fis.get_paginator("list_experiment_templates").paginate():
            for template in page.get("experimentTemplates", []):
                tags = template.get("tags") or {}
                if tags.get("Layer") == "observability" and tags.get("Environment") == suffix and tags.get("Name"):
                    found[tags["Name"]] = template["id"]
    missing = [n for n in names if n not in found]
    if missing:
        have = ", ".join(sorted(found)) or "none"
        raise CatalogError(f"--faults {', '.join(missing)}: the observability stack {suffix} has no FIS experiment "
                           f"template for it (it has: {have})",
                           f"set catalog-observability:faultExperiments and deploy it: "
                           f"invoke up --layer observability --suffix {suffix} --config "
                           f"observability:faultExperiments={','.join(sorted({*found, *missing}))}")
    return {n: str(found[n]) for n in names}


@dataclass
class Experiments:
    """Starts the scheduled faults as the run reaches their time and follows them (one FIS call each per poll)."""

    fis: Any  # boto3 FIS client
    templates: Mapping[str, str]
    schedule: Sequence[ScheduledFault]
    say: Callable[[str], None]
    started: dict[int, tuple[str, float]] = field(default_factory=dict)  # schedule index -> (experiment id, at s)
    records: dict[int, FaultRecord] = field(default_factory=dict)  # finished ones

    def tick(self, elapsed_s: float) -> None:
        """Start what is due, record what ended; `elapsed_s`: seconds since the load started."""
        for i, fault in enumerate(self.schedule):
            if i not in self.started and elapsed_s >= fault.at_s:
                answer = self.fis.start_experiment(clientToken=str(uuid.uuid4()),
                                                   experimentTemplateId=self.templates[fault.name],
                                                   tags={"Name": f"rehearsal-{fault.name}"})
                self.started[i] = (answer["experiment"]["id"], elapsed_s)
                self.say(f"rehearse: {elapsed_s:5.0f} s  fault {fault.name} started (experiment "
                         f"{answer['experiment']['id']}, planned @{fault.at_s} s)")
        for i, (experiment_id, at) in self.started.items():
            if i in self.records:
                continue
            state = self.fis.get_experiment(id=experiment_id)["experiment"].get("state", {})
            if state.get("status") in DONE:
                name = self.schedule[i].name
                self.records[i] = FaultRecord(name, at, elapsed_s, state["status"], state.get("reason", ""),
                                              experiment_id)
                self.say(f"rehearse: {elapsed_s:5.0f} s  fault {name} {state['status']}: {state.get('reason', '')}")

    @property
    def running(self) -> list[str]:
        return [self.started[i][0] for i in self.started if i not in self.records]

    def finish(self, elapsed_s: float, reason: str) -> list[FaultRecord]:
        """Stop what still runs (the load is over, or the run failed) and return every record, in start order."""
        for i, (experiment_id, at) in self.started.items():
            if i in self.records:
                continue
            state = self.fis.get_experiment(id=experiment_id)["experiment"].get("state", {})
            status = state.get("status", "")
            if status not in DONE:
                self.fis.stop_experiment(id=experiment_id)
                status, why = "stopped", f"stopped by invoke rehearse: {reason}"
                self.records[i] = FaultRecord(self.schedule[i].name, at, None, status, why, experiment_id)
            else:
                self.records[i] = FaultRecord(self.schedule[i].name, at, elapsed_s, status, state.get("reason", ""),
                                              experiment_id)
        return [self.records[i] for i in sorted(self.records)]


def fault_rows(records: Sequence[FaultRecord]) -> list[str]:
    """The report's fault table: name, start, end, state (and FIS's reason)."""
    if not records:
        return []
    lines = ["", f"{'fault':<18}{'start s':>9}{'end s':>9}  state"]
    for r in records:
        end = f"{r.ended_s:9.0f}" if r.ended_s is not None else f"{'-':>9}"
        lines.append(f"{r.name:<18}{r.started_s:9.0f}{end}  {r.state}{': ' + r.reason if r.reason else ''}")
    return lines
