"""`invoke rehearse` on AWS: deploy the rehearsal stack, run the Locust fleet with its faults, collect, tear down.

1. Everything that can refuse does so before a stack is touched: the stack config (projects/rehearsal settings),
   the target's outputs the report needs, a FIS template per requested fault.
2. Preview `catalog-rehearsal/<suffix>` with the guardrails pack, show it, ask (unless --yes), `up`.
3. Run (rehearsal_fleet, rehearsal_log, rehearsal_experiments): the master, then the workers; every ~10 s a
   progress line from the master's log; each fault started at its time and followed to its end.
4. Collect: Locust's CSVs from the log, CloudWatch figures over the run (rehearsal_metrics), the chart.
5. Whatever happened (failure, Ctrl-C): stop running experiments and tasks, destroy the stack (unless --keep); a
   destroy that fails leaves one line with the command that finishes it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.deploy import ChangeList, ResourceEvent, StackBackend, format_changes, format_event, output_value
from shared.ops import rehearsal_stack
from shared.ops.rehearsal import (
    Outcome,
    Rehearsal,
    parse_history,
    parse_stats,
    report,
    room_figures,
    statuses_by_type,
)
from shared.ops.rehearsal_experiments import Experiments, FaultRecord, fault_rows, template_ids
from shared.ops.rehearsal_faults import FaultWindow, Injection, fault_table, fault_windows
from shared.ops.rehearsal_fleet import STARTED_BY, Fleet, FleetOutputs
from shared.ops.rehearsal_log import MasterLog, StreamReader, stream_name, worker_cpu
from shared.ops.rehearsal_metrics import Figure, Target, collect, figure_rows, met
from shared.runtime.errors import CatalogError
from shared.runtime.layers import get_layer

LABEL = f"{rehearsal_stack.PROJECT}/{{suffix}}"
PROGRESS_EVERY_S = 10
POLL_S = 5
WORKERS_WAIT_S = 300  # the master's --expect-workers-max-wait (projects/rehearsal/resources.py)
LOG_LAG_S = 90  # after the master stops, its last lines may still be on their way to CloudWatch Logs
METRICS_LAG_S = 120  # CloudWatch's Lambda and RDS figures arrive a minute or two late


def teardown_command(suffix: str, backend_url: str) -> str:
    backend = "" if backend_url.startswith("file://") or backend_url.startswith("memory") else \
        f" --backend {backend_url}"
    return f"invoke rehearse --suffix {suffix} --teardown{backend}"


@dataclass
class AwsDeps:
    """What the run talks to: the stacks (Pulumi state), AWS clients, the operator, the clock."""

    stacks: StackBackend
    policy_packs: Callable[[], list[str]]
    client: Callable[[str], Any]  # boto3 client factory: "ecs", "logs", "fis", "cloudwatch"
    lambda_quota: int
    confirm: Callable[[str], bool]
    say: Callable[[str], None] = print
    sleep: Callable[[float], None] = lambda s: None
    clock: Callable[[], float] = lambda: datetime.now(UTC).timestamp()


@dataclass
class AwsRun:
    outcome: Outcome
    figures: list[Figure]
    faults: list[FaultRecord]
    out_dir: Path
    chart: Path | None
    started_at: float  # epoch s of the load's start (t = 0 of the history and of the faults)
    history_csv: str = field(repr=False, default="")

    @property
    def windows(self) -> list[FaultWindow]:
        """What each FIS fault cost, read from Locust's history as a local run's faults are (rehearsal_faults.py);
        a fault still running at the end (then stopped) counts until the history's last second."""
        history = parse_history(self.history_csv) if self.faults and self.history_csv else []
        if not history:
            return []
        last = history[-1].t_s
        return fault_windows(history, [Injection(f.name, f.started_s, f.ended_s if f.ended_s is not None else last)
                                       for f in self.faults])

    @property
    def met(self) -> bool:
        return self.outcome.met and met(self.figures) and all(w.met for w in self.windows)


def aws_report(run: AwsRun) -> str:
    windows = run.windows
    lines = [report(run.outcome), *figure_rows(run.figures), *fault_rows(run.faults),
             *(["", fault_table(windows)] if windows else []), "",
             f"rehearsal on AWS: {'met' if run.met else 'MISSED'}"]
    return "\n".join(lines)


def _outputs(stacks: StackBackend, layer: Any, suffix: str) -> dict[str, Any]:
    found = stacks.outputs(layer, suffix)
    return {name: output_value(found, name) for name in found}


def run_aws(r: Rehearsal, config: Mapping[str, str], deps: AwsDeps, out_dir: Path, *,
            keep: bool = False) -> AwsRun | None:
    """The whole AWS rehearsal; None when the operator declined after the preview (nothing deployed)."""
    stacks, say, target = deps.stacks, deps.say, rehearsal_stack.TARGET
    label = LABEL.format(suffix=r.suffix)
    rehearsal_stack.validate(r.suffix, config)
    metrics_target = Target.from_outputs(_outputs(stacks, get_layer("app"), r.suffix),
                                         _outputs(stacks, get_layer("data"), r.suffix), deps.lambda_quota)
    templates = template_ids(deps.client("fis"), r.suffix,
                             _outputs(stacks, get_layer("observability"), r.suffix), r.faults)
    packs = deps.policy_packs()

    def event(e: ResourceEvent) -> None:
        line = format_event(e)
        if line:
            say(line)

    stacks.ensure_stack(target, r.suffix)
    for key, value in config.items():
        stacks.set_config(target, r.suffix, f"{rehearsal_stack.PROJECT}:{key}", value)
    say(f"preview {label}  (state: {stacks.url})")
    changes = ChangeList(say)  # the same list of changes `invoke up` shows before its question
    # The up may do only what this preview showed (Pulumi's update plan, kept in a private directory).
    with tempfile.TemporaryDirectory(prefix="catalog-plan-") as scratch:
        plan = str(Path(scratch) / "plan.json")
        previewed = stacks.preview(target, r.suffix, changes, policy_packs=packs, plan=plan)
        say(f"preview {label}: {format_changes(previewed.changes)}")
        for line in changes.lines():
            say(line)
        if not deps.confirm(f"deploy {label} and run {r.users:,} shoppers for {r.duration_s} s?"):
            say("rehearse: nothing deployed")
            return None
        fleet: Fleet | None = None
        experiments: Experiments | None = None
        finished = False
        try:
            say(f"up {label}  (state: {stacks.url})")
            deployed = stacks.up(target, r.suffix, event, policy_packs=packs, plan=plan)
            say(f"up {label}: {format_changes(deployed.changes)}")
            outs = FleetOutputs.from_outputs(_outputs(stacks, target, r.suffix))
            fleet = Fleet(deps.client("ecs"), outs, say, deps.sleep)
            experiments = Experiments(deps.client("fis"), templates, r.faults, say)
            result = _run(r, deps, fleet, experiments, metrics_target, out_dir)
            finished = True
            return result
        finally:
            reason = "the rehearsal ended" if finished else "the rehearsal failed or was interrupted"
            _clean_up(r, deps, fleet, experiments, reason, keep)


def _clean_up(r: Rehearsal, deps: AwsDeps, fleet: Fleet | None, experiments: Experiments | None, reason: str,
              keep: bool) -> None:
    """Best effort, each step on its own: a fault left running or a task left up costs; the stack must go."""
    say = deps.say
    if experiments is not None and experiments.running:
        try:
            experiments.finish(0.0, reason)
            say(f"rehearse: stopped the running fault experiment(s) ({reason})")
        except Exception as exc:  # botocore errors: the destroy below must still run
            say(f"rehearse: could not stop the fault experiments {', '.join(experiments.running)}: {exc}")
    if fleet is not None:
        try:
            stopped = fleet.stop_all(reason)
            if stopped:
                say(f"rehearse: stopped {stopped} Locust task(s)")
        except Exception as exc:
            say(f"rehearse: could not stop the Locust tasks: {exc}")
    command = teardown_command(r.suffix, deps.stacks.url)
    label = LABEL.format(suffix=r.suffix)
    if keep:
        say(f"rehearse: {label} kept (--keep); destroy it with: {command}")
        return
    try:
        say(f"destroy {label}")
        done = deps.stacks.destroy(rehearsal_stack.TARGET, r.suffix, lambda e: None)
        say(f"destroy {label}: {format_changes(done.changes)}")
    except BaseException as exc:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        say(f"rehearse: the destroy of {label} did not finish ({message}); finish it with: {command}")


def _run(r: Rehearsal, deps: AwsDeps, fleet: Fleet, experiments: Experiments, target: Target,
         out_dir: Path) -> AwsRun:
    say, logs = deps.say, deps.client("logs")
    master_ip = fleet.start_master()
    fleet.start_workers(master_ip)
    log = MasterLog()
    reader = StreamReader(logs, fleet.out.log_group, stream_name("master", fleet.master_arn))
    began = deps.clock()
    deadline = began + WORKERS_WAIT_S + r.duration_s + LOG_LAG_S + 120
    last_progress, stopped_at = 0.0, None
    while True:
        for line in reader.new_lines():
            log.feed(line)
        now, t0 = deps.clock(), log.started_at()
        if t0 is not None:
            experiments.tick(now - t0)
        if now - last_progress >= PROGRESS_EVERY_S:
            say(_progress(log, fleet.out.worker_count, now))
            last_progress = now
        if log.finished:
            break
        if stopped_at is None:
            status, code, why = fleet.master_state()
            if status == "STOPPED":
                stopped_at = now
                # 1: some requests failed, which the report shows; no code yet: the log says what happened
                if code is not None and code not in (0, 1):
                    raise CatalogError(f"the Locust master stopped (exit code {code}: {why})",
                                       f"read its log: log group {fleet.out.log_group}")
        elif now - stopped_at > LOG_LAG_S:
            raise CatalogError("the Locust master stopped without writing its totals to its log",
                               f"read its log: log group {fleet.out.log_group}")
        if now > deadline:
            raise CatalogError(f"the rehearsal is still running {now - began:.0f} s after its start",
                               f"read the master's log: log group {fleet.out.log_group}")
        deps.sleep(POLL_S)
    t0 = log.started_at() or began
    end = deps.clock()
    records = experiments.finish(end - t0, "the load ended")
    return _collect(r, deps, fleet, log, records, target, t0, end, out_dir)


def _progress(log: MasterLog, expected_workers: int, now: float) -> str:
    history = log.history()
    if not history:
        return f"rehearse: waiting for the workers: {log.workers}/{expected_workers} connected"
    p = history[-1]
    return (f"rehearse: {p.t_s:5.0f} s  workers {log.workers}/{expected_workers}  users {p.users:,}  "
            f"{p.rps:,.0f} req/s  p99 {p.p99_ms:,.0f} ms  failures {p.failures_per_s:,.1f}/s")


def _collect(r: Rehearsal, deps: AwsDeps, fleet: Fleet, log: MasterLog, records: list[FaultRecord],
             target: Target, t0: float, end: float, out_dir: Path) -> AwsRun:
    say = deps.say
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "locust_stats.csv").write_text(log.stats_csv())
    (out_dir / "locust_stats_history.csv").write_text(log.history_csv())
    (out_dir / "master.log").write_text("\n".join(log.lines) + "\n")
    statuses = statuses_by_type(log.statuses or {})
    cpu = worker_cpu(deps.client("logs"), fleet.out.log_group, fleet.worker_arns)
    outcome = Outcome(stats=parse_stats(log.stats_csv()), statuses=statuses, stock=r.stock, available_after=None,
                      users=r.users, workers=fleet.out.worker_count, duration_s=r.duration_s, worker_cpu_s=cpu,
                      room=room_figures(log.statuses or {}))
    say(f"rehearse: waiting {METRICS_LAG_S} s for CloudWatch's last data points")
    deps.sleep(METRICS_LAG_S)
    start = datetime.fromtimestamp(t0 - 60, UTC)
    stop = datetime.fromtimestamp(max(end, deps.clock()) + 60, UTC)
    figures = collect(deps.client("cloudwatch"), target, start, stop)
    history = log.history()
    chart = None
    if history:
        from shared.ops.rehearsal_chart import render

        chart = render(history, out_dir / "rehearsal.png", title=f"rehearsal {r.suffix} on AWS: {r.users:,} users",
                       faults=[(f.name, f.started_s, f.ended_s) for f in records])
    (out_dir / "aws.json").write_text(json.dumps({
        "startedAt": datetime.fromtimestamp(t0, UTC).isoformat(), "figures": [asdict(f) for f in figures],
        "faults": [asdict(f) for f in records]}, indent=2) + "\n")
    return AwsRun(outcome=outcome, figures=figures, faults=records, out_dir=out_dir, chart=chart, started_at=t0,
                  history_csv=log.history_csv())


def teardown(stacks: StackBackend, client: Callable[[str], Any], suffix: str, say: Callable[[str], None]) -> bool:
    """`invoke rehearse --teardown`: stop what a run left (tasks), destroy the stack. False: there was nothing."""
    target, label = rehearsal_stack.TARGET, LABEL.format(suffix=suffix)
    if not stacks.resource_count(target, suffix):
        say(f"rehearse: {label} holds no resources: nothing to tear down")
        return False
    cluster = _outputs(stacks, target, suffix).get("clusterArn")
    if cluster:
        ecs = client("ecs")
        arns = ecs.list_tasks(cluster=cluster, startedBy=STARTED_BY).get("taskArns", [])
        for arn in arns:
            ecs.stop_task(cluster=cluster, task=arn, reason="invoke rehearse --teardown")
        if arns:
            say(f"rehearse: stopped {len(arns)} Locust task(s)")
    say(f"destroy {label}  (state: {stacks.url})")
    done = stacks.destroy(target, suffix, lambda e: None)
    say(f"destroy {label}: {format_changes(done.changes)}")
    return True
