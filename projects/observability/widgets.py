"""Small typed helpers that render CloudWatch dashboard JSON (the `dashboard_body` format), so the body is built
from checked parts rather than written by hand.

Format reference: CloudWatch "Dashboard Body Structure and Syntax" — widgets on a 24-column grid with x/y/width/
height; metric widgets hold `metrics` arrays `[namespace, name, dim, value, ..., {options}]` or
`[{"expression": ..., "id": ...}]`, plus `region`, `stat`, `period`, `annotations.horizontal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from projects.observability.metrics import Metric, MetricContract, check_metric
from shared.runtime import REGION

GRID_WIDTH = 24


@dataclass(frozen=True)
class Annotation:
    value: float
    label: str
    color: str = "#d62728"

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, "color": self.color}


@dataclass(frozen=True)
class Line:
    """A metric line; `id` names it for expressions, `visible=False` hides an expression's input."""

    metric: Metric
    id: str | None = None
    visible: bool = True

    def to_list(self) -> list[Any]:
        m = self.metric
        out: list[Any] = [m.namespace, m.name]
        for key, value in m.dimensions.items():
            out += [key, value]
        options: dict[str, Any] = {"stat": m.stat, "period": m.period}
        if m.label:
            options["label"] = m.label
        if self.id:
            options["id"] = self.id
        if not self.visible:
            options["visible"] = False
        return [*out, options]


@dataclass(frozen=True)
class Expression:
    expression: str
    label: str
    id: str

    def to_list(self) -> list[Any]:
        return [{"expression": self.expression, "label": self.label, "id": self.id}]


@dataclass(frozen=True)
class Search:
    """A SEARCH expression over one metric of a namespace, e.g. Latency per route (dashboards only, not alarms)."""

    metric: Metric  # dimensions: the fixed filters; `keys` lists every dimension of the schema
    keys: tuple[str, ...]
    id: str

    def expression(self) -> str:
        m = self.metric
        schema = ",".join((m.namespace, *self.keys))
        filters = " ".join(f'{k}="{v}"' for k, v in m.dimensions.items())
        return f"SEARCH('{{{schema}}} MetricName=\"{m.name}\" {filters}', '{m.stat}', {m.period})"

    def to_list(self) -> list[Any]:
        return [{"expression": self.expression(), "label": self.metric.label or self.metric.name, "id": self.id}]


Series = Line | Expression | Search


@dataclass(frozen=True)
class MetricWidget:
    title: str
    series: tuple[Series, ...]
    width: int = 8
    height: int = 6
    annotations: tuple[Annotation, ...] = ()
    y_label: str | None = None
    y_min: float | None = 0

    def check(self, contract: MetricContract) -> None:
        """Refuse a metric outside the API contract and the AWS table (a typo would graph nothing)."""
        for s in self.series:
            if isinstance(s, Line):
                check_metric(s.metric, contract)
            elif isinstance(s, Search):  # the schema's keys are the dimension set
                check_metric(Metric(s.metric.namespace, s.metric.name, dict.fromkeys(s.keys, ""), s.metric.stat),
                             contract)

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "title": self.title, "view": "timeSeries", "stacked": False, "region": REGION, "period": 60,
            "metrics": [s.to_list() for s in self.series],
        }
        if self.annotations:
            props["annotations"] = {"horizontal": [a.to_dict() for a in self.annotations]}
        left: dict[str, Any] = {}
        if self.y_min is not None:
            left["min"] = self.y_min
        if self.y_label:
            left["label"] = self.y_label
        if left:
            props["yAxis"] = {"left": left}
        return {"type": "metric", "properties": props}


@dataclass(frozen=True)
class TextWidget:
    markdown: str
    width: int = GRID_WIDTH
    height: int = 2

    def properties(self) -> dict[str, Any]:
        return {"type": "text", "properties": {"markdown": self.markdown}}


@dataclass(frozen=True)
class LogWidget:
    title: str
    log_group: str
    query: str
    width: int = GRID_WIDTH
    height: int = 6

    def properties(self) -> dict[str, Any]:
        # Logs Insights widget: the query starts with SOURCE '<log group>'
        return {"type": "log", "properties": {"title": self.title, "region": REGION, "view": "table",
                                              "query": f"SOURCE '{self.log_group}' | {self.query}"}}


Widget = MetricWidget | TextWidget | LogWidget


@dataclass(frozen=True)
class Row:
    title: str
    note: str = ""
    widgets: tuple[Widget, ...] = field(default_factory=tuple)


def layout(rows: list[Row], contract: MetricContract) -> dict[str, Any]:
    """Place rows top to bottom (a header text, then widgets left to right, wrapping at 24 columns)."""
    out: list[dict[str, Any]] = []
    y = 0
    for row in rows:
        header = f"## {row.title}" + (f"\n{row.note}" if row.note else "")
        out.append({**TextWidget(header, height=2 if row.note else 1).properties(),
                    "x": 0, "y": y, "width": GRID_WIDTH, "height": 2 if row.note else 1})
        y += 2 if row.note else 1
        x, row_height = 0, 0
        for w in row.widgets:
            if isinstance(w, MetricWidget):
                w.check(contract)
            if x + w.width > GRID_WIDTH:
                x, y, row_height = 0, y + row_height, 0
            out.append({**w.properties(), "x": x, "y": y, "width": w.width, "height": w.height})
            x += w.width
            row_height = max(row_height, w.height)
        y += row_height
    return {"start": "-PT3H", "periodOverride": "inherit", "widgets": out}
