"""What the tasks print: one line per resource step, and the summary table (layer, result, changes, duration)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from shared.deploy.interface import ResourceEvent

# Ops worth a line; `same` (unchanged) would drown the changes in a re-run.
QUIET_OPS = {"same", "read"}
SYMBOLS = (("create", "+"), ("update", "~"), ("replace", "+-"), ("create-replacement", "+-"),
           ("delete", "-"), ("refresh", "r"), ("import", "="))
DECLINED = "declined"  # a step's result when the operator answered no (or nothing) at the question: nothing changed
NO_CHANGES = "no changes"  # the preview found nothing to change: no update ran
CHANGE_OPS = {"create", "update", "replace", "create-replacement", "delete-replaced", "delete", "import",
              "discard", "remove-pending-replace"}


@dataclass
class StepResult:
    layer: str
    result: str  # deployed, previewed, destroyed, skipped, failed, not run, ...
    changes: Mapping[str, int]
    duration: float = 0.0
    ok: bool = True
    detail: str = ""


def format_event(event: ResourceEvent) -> str | None:
    """`  create    catalog-vpc-qa  (aws:ec2/vpc:Vpc)`; failures always print, unchanged resources never."""
    if event.op in ("error", "warning"):
        return f"  {event.op:<9} {event.name + ': ' if event.name else ''}{event.message}"
    if event.failed:
        return f"  FAILED    {event.op} {event.name}  ({event.type})"
    if event.op in QUIET_OPS:
        return None
    changed = f"  changed: {event.message}" if event.message else ""
    return f"  {event.op:<9} {event.name}  ({event.type}){changed}"


def format_changes(changes: Mapping[str, int]) -> str:
    """`+3 ~1 -2 (12 same)`; `no changes` when nothing would change."""
    parts = [f"{symbol}{changes[op]}" for op, symbol in SYMBOLS if changes.get(op)]
    same = changes.get("same", 0)
    text = " ".join(parts) if parts else "no changes"
    return f"{text} ({same} same)" if same else text


def has_changes(changes: Mapping[str, int]) -> bool:
    return any(count for op, count in changes.items() if op in CHANGE_OPS)


# How a preview's steps are grouped for the question: a replacement's three steps are one replaced resource.
GROUPS = {"create": "create", "update": "update", "replace": "replace", "create-replacement": "replace",
          "delete-replaced": "replace", "delete": "delete", "import": "import", "discard": "discard"}
GROUP_ORDER = ("create", "update", "replace", "delete", "import")
GROUP_SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "import": "="}


@dataclass
class ChangeList:
    """A preview's changed resources, by operation: fed the engine's events, it prints diagnostics at once (a
    warning or error must not wait for the question) and keeps the rest for `lines()`."""

    say: Callable[[str], None]
    changed: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)  # group -> (type, name) -> diffs

    def __call__(self, event: ResourceEvent) -> None:
        group = GROUPS.get(event.op)
        if event.failed or group is None:
            line = format_event(event)
            if line:
                self.say(line)
            return
        self.changed.setdefault(group, {})[(event.type, event.name)] = event.message

    @property
    def count(self) -> int:
        return sum(len(resources) for resources in self.changed.values())

    def lines(self) -> list[str]:
        """`  create (2)` then one `    + catalog-vpc-qa  (aws:ec2/vpc:Vpc)` per resource, sorted by type and name."""
        out = []
        for group in (*GROUP_ORDER, *sorted(set(self.changed) - set(GROUP_ORDER))):
            resources = self.changed.get(group)
            if not resources:
                continue
            out.append(f"  {group} ({len(resources)})")
            for (type_, name), diffs in sorted(resources.items()):
                what = f"  changed: {diffs}" if diffs else ""
                out.append(f"    {GROUP_SYMBOLS.get(group, ' ')} {name}  ({type_}){what}")
        return out


def counted_changes(changes: Mapping[str, int]) -> int:
    """Resources an engine summary says would change (create, update, replace, delete, import)."""
    return sum(changes.get(op, 0) for op in GROUP_ORDER)


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def render_summary(results: Iterable[StepResult]) -> str:
    """The table, then one line per step that has something to add (why it failed, what is pending)."""
    results = list(results)
    rows = [("layer", "result", "changes", "duration")]
    for r in results:
        changes = format_changes(r.changes) if r.changes else "-"
        rows.append((r.layer, r.result, changes, format_duration(r.duration) if r.duration else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    lines += [f"{r.layer}: {r.detail}" for r in results if r.detail]
    return "\n".join(lines)
