"""`invoke sale plan|cancel|check`: declare a flash sale window, remove it before it starts, check readiness.

Arguments and printing only; the logic is in `shared/ops/sale.py` and `shared/ops/sale_check.py`.
Exit codes: 0 done (or GO); 2 bad input, a refused window (nothing stored), or NO-GO.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.deploy import StackBackend, output_value
from shared.ops.sale import (
    SALE_LAYERS,
    NoStacks,
    SaleRequest,
    cancel_window,
    changes_table,
    check_request,
    check_skus,
    deployed_layers,
    lambda_quota_from_stacks,
    plain_config,
    plan_sale,
    prepare_plan,
    request_from_text,
    room_to_store,
    stack_settings,
    stored_windows,
    write_windows,
)
from shared.ops.sale_check import Expected, readiness, rows_table
from shared.runtime.errors import CatalogError
from shared.runtime.naming import validate_suffix
from shared.runtime.sale_windows import iso, parse_utc

ACTIONS = ("plan", "cancel", "check")
USAGE = f"{'|'.join(ACTIONS)} [--options]"
DEFAULT_LAMBDA_QUOTA = 1000  # AWS's default concurrent executions per Region


def _backend(backend: str, secrets_provider: str, install_cli: bool = True) -> StackBackend:
    """The stacks' backend (Automation API); the tests swap in the in-memory one here."""
    from shared.deploy import open_session

    session = open_session(backend or None, secrets_provider or None, needs_aws=False,
                           say=lambda line: print(line, flush=True), install_cli=install_cli)
    return session.backend  # type: ignore[no-any-return]


def _now() -> datetime:
    return datetime.now(UTC)


def _settings_source(backend: str, secrets_provider: str, suffix: str, *, offline_ok: bool) -> StackBackend:
    """The stacks when they can be read; for a task that stores nothing, the layers' defaults otherwise (no
    Pulumi CLI is installed for it, no passphrase asked). Says which source it used."""
    if offline_ok:
        try:
            stacks = _backend(backend, secrets_provider, install_cli=False)
        except CatalogError as exc:
            reason = exc.problem
        else:
            if deployed_layers(stacks, suffix):
                print(f"settings: stacks {suffix} ({stacks.url})")
                return stacks
            reason = f"no stack of {suffix} is deployed"
        print(f"settings: the layers' defaults, offline ({reason})")
        return NoStacks()  # type: ignore[return-value]
    stacks = _backend(backend, secrets_provider)
    print(f"settings: stacks {suffix} ({stacks.url})")
    return stacks


def _plan(request: SaleRequest, stacks: StackBackend, suffix: str, lambda_quota: int, api: str, results: str,
          dry_run: bool) -> None:
    from shared.ops.perf_report import load_service_times

    check_skus(request.skus, api)
    times, notes = load_service_times(results)
    quota = lambda_quota or lambda_quota_from_stacks(stacks, suffix, DEFAULT_LAMBDA_QUOTA)
    plan = plan_sale(request, stack_settings(stacks, suffix), times, lambda_quota=quota, now=_now(),
                     suffix=suffix)
    offline = isinstance(stacks, NoStacks)
    # An overlap or a bad layer setting is refused before the table (against the stacks' windows).
    values = {} if offline else prepare_plan(stacks, suffix, plan, _now())
    print(f"sale {iso(request.start)} -> {iso(request.end)}, {request.users:,} users, lead time "
          f"{plan.lead_minutes} min (scale-out at {iso(plan.scale_out_at)}), stacks {suffix}:")
    print(changes_table(plan))
    for note in (*notes, *plan.notes):
        print(f"  note: {note}")
    if dry_run:
        print("dry run: nothing stored" + (" (overlaps with declared windows are checked against the stacks "
                                           "when they are reachable)" if offline else ""))
        return
    keys = room_to_store(stacks, suffix, plan, _now())
    write_windows(stacks, suffix, values, keys)
    room = f" and {', '.join(f'catalog-app:{k}' for k in keys)}" if keys else ""
    print(f"stored in {', '.join(f'catalog-{layer}:saleWindows' for layer in SALE_LAYERS)}{room}; each team's next "
          f"`invoke up --layer <layer> --suffix {suffix}` creates the schedules (run `invoke sale check --suffix "
          f"{suffix}` after)")


def _expected(stacks: StackBackend, suffix: str, outputs: dict[str, dict[str, Any]]) -> Expected:
    return Expected(suffix=suffix, windows={layer: stored_windows(stacks, suffix, layer) for layer in SALE_LAYERS},
                    outputs=outputs, api_throttle_rate=float(stack_settings(stacks, suffix).api_throttle_rps))


def _check(stacks: StackBackend, suffix: str, offline: bool) -> None:
    from shared.runtime.layers import LAYERS

    if offline:
        from shared.ops.sale_check import PlannedAccount
        from shared.plan import offline_config, plan_chain

        config, secret_keys = offline_config({layer.name: plain_config(stacks, layer.name, suffix)
                                              for layer in LAYERS})
        plans = plan_chain(suffix, config, secret_keys=secret_keys)
        outputs = {name: {k: p.export_value(k) for k in p.exports} for name, p in plans.items()}
        quota = float(lambda_quota_from_stacks(stacks, suffix, DEFAULT_LAMBDA_QUOTA))
        account: Any = PlannedAccount(plans, quota)
        print(f"offline: the plan of stacks {suffix}'s config; the quota is catalog-observability:"
              f"accountConcurrencyLimit ({quota:,.0f}), API Gateway's account throttle AWS's default")
    else:
        import boto3

        from shared.ops.sale_check import Boto3Account

        outputs = {}
        for layer in LAYERS:
            if stacks.resource_count(layer, suffix):
                found = stacks.outputs(layer, suffix)
                outputs[layer.name] = {k: output_value(found, k) for k in found}
        account = Boto3Account(boto3.session.Session(region_name="us-east-1"))
    rows = readiness(_expected(stacks, suffix, outputs), account, now=_now())
    print(rows_table(rows))
    if not all(r.ok for r in rows):
        raise Exit(code=2)


@documented_task(
    help={
        "action": "the word after `invoke sale` (or --action): plan (declare a window), cancel (remove one before "
                  "it starts) or check (go/no-go)",
        "suffix": "environment suffix = stack name, e.g. qa",
        "start": "plan/cancel: when the doors open, ISO 8601 UTC, e.g. 2030-05-01T18:00:00Z",
        "end": "plan: when the sale ends (the restore), ISO 8601 UTC",
        "users": "plan: concurrent shoppers the sale must serve (the capacity model's input; default 50000)",
        "sku": "plan: a sale SKU (SKU- and 6 digits), repeatable: its stock shard count is planned",
        "waiting_room": "plan: sale SKUs shoppers queue for, comma-separated (each also a --sku), e.g. "
                        "SKU-000123,SKU-000456: admission rate and cap from the capacity model",
        "lead_minutes": "plan: minutes before the start the scale-out fires (default 15; 30 when readers are added)",
        "lambda_quota": "plan: the account's Lambda concurrent executions quota (default: catalog-observability:"
                        "accountConcurrencyLimit of the stack, else 1000)",
        "api": "plan: the API's base URL; each --sku is then checked with GET /api/products/{sku}",
        "results": "plan: bench results JSON for the service times (default: the latest bench/results/*.json)",
        "dry_run": "plan: print the table only, store nothing",
        "plan": "check: offline, against the plan of the stacks' config (no AWS)",
        "backend": "state backend: file://<dir> (default: .pulumi-state/ in the repo) or s3://<bucket>[/prefix]",
        "secrets_provider": "passphrase (default: PULUMI_CONFIG_PASSPHRASE[_FILE]) or awskms://alias/<key>",
    },
    usage=USAGE,
    positional=["action"],
    iterable=["sku"],
)
@refuse_clearly
def sale(c: Context, action: str | None = None, suffix: str = "", start: str = "", end: str = "", users: int = 50_000,
         sku: list[str] | None = None, waiting_room: str = "", lead_minutes: int = 0, lambda_quota: int = 0,
         api: str = "", results: str = "", dry_run: bool = False, plan: bool = False, backend: str = "",
         secrets_provider: str = "") -> None:
    """Sale windows: the platform scales itself up for a declared flash sale and back down after."""
    if action == "help":
        usage = f"Usage: invoke sale {USAGE}"
        print(f"{usage}\n\n" + (inspect.getdoc(sale.body) or "").replace(f"\n\n{usage}", "", 1))
        return
    if action not in ACTIONS:
        raise CatalogError(f"unknown sale action {action!r}", f"one of {', '.join(ACTIONS)}: invoke sale plan ...")
    # Every argument is checked before any tool, passphrase or stack is reached.
    validate_suffix(suffix)
    if action in ("plan", "cancel") and not start:
        raise CatalogError(f"sale {action} needs --start", "the window's start, e.g. --start 2030-05-01T18:00:00Z")
    if action == "plan" and not end:
        raise CatalogError("sale plan needs --end", "the window's end, e.g. --end 2030-05-01T20:00:00Z")
    if lambda_quota < 0:
        raise CatalogError(f"--lambda-quota {lambda_quota} is negative", "the account's quota, e.g. 3000 (0: read it)")
    if action == "plan":
        request = request_from_text(start, end, users, list(sku or []), lead_minutes, waiting_room)
        check_request(request, now=_now())
        stacks = _settings_source(backend, secrets_provider, suffix, offline_ok=dry_run)
        _plan(request, stacks, suffix, lambda_quota, api, results, dry_run)
    elif action == "cancel":
        try:
            moment = parse_utc(start)
        except ValueError as exc:
            raise CatalogError(f"sale time {exc}", "ISO 8601 UTC, e.g. --start 2030-05-01T18:00:00Z") from None
        stacks = _settings_source(backend, secrets_provider, suffix, offline_ok=False)
        layers = cancel_window(stacks, suffix, moment, now=_now())
        print(f"cancelled the sale {iso(moment)} in {', '.join(f'catalog-{layer}' for layer in layers)}; the next "
              f"`invoke up` of each removes its schedules")
    else:
        _check(_settings_source(backend, secrets_provider, suffix, offline_ok=plan), suffix, plan)
