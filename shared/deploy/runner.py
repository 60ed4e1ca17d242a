"""The orchestration: deploy, preview, refresh, check drift and tear down layers, one or all, safely.

Works on any `StackBackend`; the tasks in `shared/deploy/tasks.py` give it the Automation API one, the tests an
in-memory one. Guards run before anything changes; a failure in `up-all`/`down-all` stops the run and the
summary says what is left (re-running resumes: deployed stacks are updated in place, destroyed ones skipped).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any

from shared.declarations import settings_class
from shared.deploy.cloud import (
    AccountChecks,
    AwsAccountChecks,
    AwsEdgeCleaner,
    EdgeCleaner,
    EdgeCleanupResult,
    ReaderRemover,
    aws_reader_remover,
)
from shared.deploy.confirm import Confirmation
from shared.deploy.guards import (
    STACK_SECRETS,
    check_against_stack,
    check_downstream,
    check_secrets_present,
    check_upstream,
    is_secret_setting,
)
from shared.deploy.interface import (
    ConfigEntry,
    OperationFailed,
    ResourceEvent,
    StackBackend,
    StackOutput,
    output_value,
    stack_label,
)
from shared.deploy.report import (
    DECLINED,
    NO_CHANGES,
    ChangeList,
    StepResult,
    counted_changes,
    format_changes,
    format_event,
    has_changes,
)
from shared.policy import require_pack
from shared.runtime.errors import CatalogError
from shared.runtime.layers import Layer, forward_order, get_layer, reverse_order
from shared.runtime.settings import describe

Overrides = Mapping[str, Mapping[str, str]]
REBOOT_ACK = "CATALOG_MAX_CONNECTIONS_REBOOT"  # the operator will reboot the instances after the up
EDGE_FUNCTIONS = "edge functions"


def these(count: int, noun: str) -> str:
    """`these 5 changes`, `this 1 change`: the questions' wording."""
    return f"this 1 {noun}" if count == 1 else f"these {count} {noun}s"


class Orchestrator:
    def __init__(
        self,
        backend: StackBackend,
        *,
        say: Callable[[str], None] = print,
        remove_readers: ReaderRemover | None = None,
        edge: EdgeCleaner | None = None,
        account: AccountChecks | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        guardrails: Callable[[], list[str]] = require_pack,
        confirm: Callable[[str], bool] | None = None,
    ) -> None:
        self.backend = backend
        self.say = say
        self.remove_readers = remove_readers or aws_reader_remover(say)
        self.edge = edge or AwsEdgeCleaner(say)
        self.account = account or AwsAccountChecks()
        self.env = os.environ if env is None else env
        self.clock = clock
        self.guardrails = guardrails
        # The question before a change; the default asks at the terminal and refuses without one (no silent yes).
        self.confirm = confirm or Confirmation()

    def _event(self, event: ResourceEvent) -> None:
        line = format_event(event)
        if line:
            self.say(line)

    def _existing(self, layer: Layer, suffix: str) -> int:
        count = self.backend.resource_count(layer, suffix)
        if count is None:
            raise CatalogError(f"stack {stack_label(layer, suffix)} does not exist",
                               f"deploy it with `invoke up --layer {layer.name} --suffix {suffix}`")
        return count

    # --- deploy ------------------------------------------------------------------------------------------
    def _check_before_up(self, layer: Layer, suffix: str, pairs: Mapping[str, str]) -> int | None:
        """Everything `up` can check without the upstream stacks; returns the stack's resource count."""
        count = self.backend.resource_count(layer, suffix)
        config = self.backend.get_config(layer, suffix) if count is not None else {}
        check_against_stack(layer, pairs, config)
        check_secrets_present(layer, suffix, config, pairs, self.env)
        if layer.name == "app":
            self._check_api_gateway_logging(config, pairs)
        if layer.name == "data" and count:
            self._check_max_connections(config, pairs)
        return count

    def _check_max_connections(self, config: Mapping[str, ConfigEntry], pairs: Mapping[str, str]) -> None:
        """max_connections is a static parameter (pending-reboot): a new value reaches the instances only when they
        reboot, and nothing here reboots them, while the proxy pool (a percentage of it) changes at once.
        https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_WorkingWithParamGroups.html"""
        key = "maxConnections"
        if key not in pairs:
            return
        saved = config.get(f"catalog-data:{key}")
        default = next(i.default for i in describe(settings_class("data")) if i.key == key)
        current = saved.value if saved is not None else str(default)
        if int(pairs[key]) == int(current) or self.env.get(REBOOT_ACK) == "1":
            return
        raise CatalogError(
            f"catalog-data:{key} {current} -> {pairs[key]} on a deployed stack would apply only after every Aurora "
            "instance reboots (a static parameter), so the proxy pool would be sized for a limit not in force",
            f"in a maintenance window, export {REBOOT_ACK}=1 to confirm, run the up, then reboot each instance "
            "(readers first, then the writer): aws rds reboot-db-instance --db-instance-identifier <id>")

    def _check_api_gateway_logging(self, config: Mapping[str, ConfigEntry], pairs: Mapping[str, str]) -> None:
        """Stage access logs need the account's API Gateway CloudWatch role; AWS refuses the stage without it."""
        key = "manageApiGatewayAccount"
        saved = config.get(f"catalog-app:{key}")
        # The stack's config holds ConfigEntry objects: compare the saved value, not the entry's repr.
        managed = pairs.get(key, saved.value if saved is not None else "false")
        if managed.strip().lower() == "true" or self.account.api_gateway_logging_role():
            return
        raise CatalogError(
            "API Gateway in us-east-1 has no CloudWatch Logs role, so the app layer's stage (access logs) would fail",
            "let this stack manage that account-wide setting once: --config app:manageApiGatewayAccount=true "
            "(one stack per account and region), or set the role in the API Gateway console's settings")

    def _configure(self, layer: Layer, suffix: str, pairs: Mapping[str, str], count: int | None) -> Callable[[], None]:
        """Create the stack when absent and save the --config values; returns what puts both back as they were
        (a declined or failed preview leaves no trace)."""
        before = self.backend.get_config(layer, suffix) if count is not None else {}
        self.backend.ensure_stack(layer, suffix)
        for key, value in pairs.items():
            self.backend.set_config(layer, suffix, f"{layer.project}:{key}", value,
                                    secret=is_secret_setting(layer, key))

        def undo() -> None:
            if count is None:
                self.backend.remove_stack(layer, suffix)
                return
            for key in pairs:
                full = f"{layer.project}:{key}"
                old = before.get(full)
                if old is None:
                    self.backend.remove_config(layer, suffix, full)
                else:
                    self.backend.set_config(layer, suffix, full, old.value, secret=old.secret)

        return undo

    def up(self, layer: Layer, suffix: str, overrides: Overrides | None = None, *,
           preview: bool = False) -> StepResult:
        """Preview (saving Pulumi's update plan), list the changes, ask, then update within that plan."""
        pairs = dict((overrides or {}).get(layer.name, {}))
        # The guardrails pack first: no preview or update runs without it, and nothing is touched before.
        policy_packs = self.guardrails()
        check_upstream(self.backend, layer, suffix)
        count = self._check_before_up(layer, suffix, pairs)
        label = stack_label(layer, suffix)
        undo = self._configure(layer, suffix, pairs, count)
        started = self.clock()
        self.say(f"preview {label}  (state: {self.backend.url})")
        if preview:
            result = self.backend.preview(layer, suffix, self._event, policy_packs=policy_packs)
            return StepResult(layer.name, "previewed", dict(result.changes), self.clock() - started)
        # The plan may hold the stack's config (secrets encrypted by its provider): a private directory, removed.
        with tempfile.TemporaryDirectory(prefix="catalog-plan-") as scratch:
            plan = os.path.join(scratch, "plan.json")
            changes = ChangeList(self.say)
            try:
                previewed = self.backend.preview(layer, suffix, changes, policy_packs=policy_packs, plan=plan)
            except BaseException:
                undo()
                raise
            self.say(f"preview {label}: {format_changes(previewed.changes)}")
            # The engine's own counts too: a change the events did not name must still be asked for, never skipped.
            count_of_changes = changes.count or counted_changes(previewed.changes)
            if not count_of_changes:
                self.say(f"{label}: no changes; nothing to deploy")
                return StepResult(layer.name, NO_CHANGES, dict(previewed.changes), self.clock() - started)
            for line in changes.lines():
                self.say(line)
            try:
                approved = self.confirm(f"Deploy {these(count_of_changes, 'change')} to {label}?")
            except BaseException:
                undo()
                raise
            if not approved:
                undo()
                self.say(f"{label}: not deployed; nothing changed")
                return StepResult(layer.name, DECLINED, {}, ok=False, detail="declined at the question")
            if layer.name == "edge" and not count:
                # Functions kept by an earlier destroy (retain_on_delete) would collide with the new ones.
                self.edge.before_up(suffix)
            self.say(f"up {label}  (state: {self.backend.url})")
            started = self.clock()
            result = self.backend.up(layer, suffix, self._event, policy_packs=policy_packs, plan=plan)
        return StepResult(layer.name, "deployed", dict(result.changes), self.clock() - started)

    def preview(self, layer: Layer, suffix: str, overrides: Overrides | None = None) -> StepResult:
        return self.up(layer, suffix, overrides, preview=True)

    def up_all(self, suffix: str, overrides: Overrides | None = None) -> list[StepResult]:
        """network -> observability. Checks every layer's program, config and secrets before the first deploy;
        then each layer is previewed and asked for just before its update (a layer's preview reads the outputs
        of the layers before it, which a first deploy has not made yet). A no stops the run there."""
        layers = forward_order()
        self.guardrails()
        for layer in layers:
            self._check_before_up(layer, suffix, (overrides or {}).get(layer.name, {}))
        return self._sequence(layers, lambda layer: self.up(layer, suffix, overrides))

    def _sequence(self, layers: list[Layer], step: Callable[[Layer], StepResult]) -> list[StepResult]:
        results: list[StepResult] = []
        for index, layer in enumerate(layers):
            started = self.clock()
            try:
                results.append(step(layer))
                if not results[-1].ok:  # declined: the layers after it read it, or it reads them
                    results += [StepResult(rest.name, "not run", {}) for rest in layers[index + 1:]]
                    break
            except (OperationFailed, CatalogError) as exc:
                message = exc.message if isinstance(exc, OperationFailed) else str(exc)
                self.say(f"error: {layer.name}: {message}")
                results.append(StepResult(layer.name, "failed", {}, self.clock() - started, ok=False,
                                          detail=message))
                results += [StepResult(rest.name, "not run", {}) for rest in layers[index + 1:]]
                break
        return results

    # --- inspect -----------------------------------------------------------------------------------------
    def outputs(self, layer: Layer, suffix: str) -> dict[str, StackOutput]:
        self._existing(layer, suffix)
        return self.backend.outputs(layer, suffix)

    def refresh(self, layer: Layer, suffix: str) -> StepResult:
        """Refresh preview, the differences listed, the question (as `pulumi refresh` asks), then the refresh: the
        state takes the cloud's values, which the next `up` would otherwise revert."""
        self._existing(layer, suffix)
        label = stack_label(layer, suffix)
        self.say(f"refresh preview {label} (state unchanged)")
        started = self.clock()
        listed = ChangeList(self.say)
        found = self.backend.preview_refresh(layer, suffix, listed)
        self.say(f"refresh preview {label}: {format_changes(found.changes)}")
        count = listed.count or counted_changes(found.changes)
        if not count:
            self.say(f"{label}: the state matches the cloud; nothing to refresh")
            return StepResult(layer.name, "in sync", dict(found.changes), self.clock() - started)
        for line in listed.lines():
            self.say(line)
        if not self.confirm(f"Write {these(count, 'difference')} from the cloud into the state of {label}?"):
            self.say(f"{label}: not refreshed; nothing changed")
            return StepResult(layer.name, DECLINED, {}, ok=False, detail="declined at the question")
        self.say(f"refresh {label}")
        result = self.backend.refresh(layer, suffix, self._event)
        return StepResult(layer.name, "refreshed", dict(result.changes), self.clock() - started)

    def drift(self, layer: Layer, suffix: str) -> StepResult:
        """Refresh in preview mode: nothing is written; `result` is `drifted` or `in sync`."""
        self._existing(layer, suffix)
        self.say(f"drift check {stack_label(layer, suffix)} (refresh preview, state unchanged)")
        started = self.clock()
        changes = dict(self.backend.preview_refresh(layer, suffix, self._event).changes)
        drifted = has_changes(changes)
        return StepResult(layer.name, "drifted" if drifted else "in sync", changes, self.clock() - started,
                          ok=not drifted)

    def drift_all(self, suffix: str) -> list[StepResult]:
        layers = [layer for layer in forward_order() if self.backend.resource_count(layer, suffix)]
        if not layers:
            raise CatalogError(f"no stack of suffix {suffix} holds resources", "nothing to compare")
        return [self.drift(layer, suffix) for layer in layers]

    # --- secrets -----------------------------------------------------------------------------------------
    def ensure_secrets(self, suffix: str) -> list[str]:
        """Generate the stack secrets that are absent; values are never printed or returned."""
        lines = []
        for layer_name, specs in STACK_SECRETS.items():
            layer = get_layer(layer_name)
            self.backend.ensure_stack(layer, suffix)
            config = self.backend.get_config(layer, suffix)
            for spec in specs:
                full, label = f"{layer.project}:{spec.key}", stack_label(layer, suffix)
                entry = config.get(full)
                if entry is None and not spec.needed(layer, config, {}):
                    setting, value = spec.needed_when or ("", "")
                    lines.append(f"{full}: not needed on {label} (only with {layer.project}:{setting}={value}); "
                                 "not generated")
                elif entry is None:
                    self.backend.set_config(layer, suffix, full, spec.generate(), secret=True)
                    lines.append(f"{full}: generated and stored as a secret on {label}")
                elif not entry.secret:
                    self.backend.set_config(layer, suffix, full, entry.value, secret=True)
                    lines.append(f"{full}: was plain text on {label}; now stored as a secret")
                else:
                    lines.append(f"{full}: already set on {label}; kept")
        return lines

    # --- teardown ----------------------------------------------------------------------------------------
    def _managed_instances(self, suffix: str) -> tuple[str | None, list[str]]:
        outputs = self.backend.outputs(get_layer("data"), suffix)
        managed: Any = output_value(outputs, "managedInstanceIds") or []
        if isinstance(managed, str):
            managed = json.loads(managed)
        return output_value(outputs, "clusterId"), [str(i) for i in managed]

    def _remove_readers(self, suffix: str) -> None:
        cluster_id, managed = self._managed_instances(suffix)
        if not cluster_id:
            self.say("  the data stack exports no clusterId: no auto-scaled readers to remove")
            return
        try:
            removed = self.remove_readers(cluster_id, managed)
        except CatalogError:
            raise
        except Exception as exc:  # boto3/botocore: credentials, throttling, timeouts
            raise OperationFailed("data", suffix, "removing auto-scaled readers",
                                  f"{type(exc).__name__}: {exc}") from None
        if removed:
            self.say(f"  removed {len(removed)} reader(s) added by auto scaling: {', '.join(removed)}")
        else:
            self.say(f"  cluster {cluster_id}: no readers outside Pulumi state")

    def _plan_down(self, layer: Layer, suffix: str, count: int, keep_stack: bool, clean_edge: bool) -> list[str]:
        label = stack_label(layer, suffix)
        lines = []
        if count and layer.name == "data":
            cluster_id, managed = self._managed_instances(suffix)
            lines.append(f"{layer.name}: delete the instances of cluster {cluster_id or '(none exported)'} that "
                         f"are not in Pulumi state ({', '.join(managed) or 'none'} are), then wait for them")
        if count:
            lines.append(f"{layer.name}: destroy {count} resources of stack {label}")
        if not keep_stack:
            lines.append(f"{layer.name}: {'then ' if count else ''}remove the empty stack {label} and its config")
        if layer.name == "edge" and clean_edge:
            lines.append(f"{layer.name}: delete the retained Lambda@Edge functions once CloudFront has dropped "
                         "their replicas (pending ones are reported, never an error)")
        return lines

    def _approve_down(self, stacks: list[tuple[Layer, int]], suffix: str, keep_stack: bool,
                      clean_edge: bool) -> bool:
        """List what the destroy of these stacks deletes (Pulumi's destroy preview, and the clean-ups around it)
        and ask once; True without a question when nothing would change."""
        deleted = 0
        for layer, count in stacks:
            if count:
                label = stack_label(layer, suffix)
                listed = ChangeList(self.say)
                found = self.backend.preview_destroy(layer, suffix, listed)
                self.say(f"destroy preview {label}: {format_changes(found.changes)}")
                for line in listed.lines():
                    self.say(line)
                deleted += listed.count or count
            for line in self._plan_down(layer, suffix, count, keep_stack, clean_edge and layer.name == "edge"):
                self.say(line)
        if not deleted and keep_stack:
            return True
        if len(stacks) == 1:
            label = stack_label(stacks[0][0], suffix)
            question = f"Destroy {these(deleted, 'resource')} of {label}?" if deleted else \
                f"Remove the empty stack {label}?"
        elif deleted:
            question = f"Destroy {these(deleted, 'resource')} of the {len(stacks)} stacks of suffix {suffix}?"
        else:
            question = f"Remove the {len(stacks)} empty stacks of suffix {suffix}?"
        return self.confirm(question)

    def down(self, layer: Layer, suffix: str, *, force: bool = False, keep_stack: bool = False,
             dry_run: bool = False, clean_edge: bool = True, approved: bool = False) -> StepResult:
        """`approved`: the caller has listed and asked already (down-all asks once for every layer)."""
        count = self.backend.resource_count(layer, suffix)
        if count is None:
            if dry_run:
                self.say(f"{layer.name}: no stack {stack_label(layer, suffix)}: nothing to do")
            result = StepResult(layer.name, "skipped (no stack)", {})
            if layer.name == "edge" and clean_edge and not dry_run:
                self._note_edge(result, self.clean_edge(suffix), suffix)
            return result
        if not force:
            check_downstream(self.backend, layer, suffix)
        if dry_run:
            for line in self._plan_down(layer, suffix, count, keep_stack, clean_edge):
                self.say(line)
            return StepResult(layer.name, "dry run", {"delete": count} if count else {})
        if not approved and not self._approve_down([(layer, count)], suffix, keep_stack, clean_edge):
            self.say(f"{stack_label(layer, suffix)}: not destroyed; nothing changed")
            return StepResult(layer.name, DECLINED, {}, ok=False, detail="declined at the question")
        started = self.clock()
        changes: dict[str, int] = {}
        if count:
            self.say(f"destroy {stack_label(layer, suffix)}  (state: {self.backend.url})")
            if layer.name == "data":
                self._remove_readers(suffix)
            changes = dict(self.backend.destroy(layer, suffix, self._event).changes)
        if not keep_stack:
            self.backend.remove_stack(layer, suffix)
        outcome = ("destroyed" if count else "was empty") + ("" if keep_stack else ", stack removed")
        result = StepResult(layer.name, outcome, changes, self.clock() - started)
        if layer.name == "edge" and clean_edge:
            self._note_edge(result, self.clean_edge(suffix), suffix)
        return result

    def _note_edge(self, result: StepResult, cleanup: EdgeCleanupResult, suffix: str) -> None:
        if cleanup.pending:
            result.detail = (f"Lambda@Edge {', '.join(cleanup.pending)} still replicated (AWS removes replicas "
                             f"within hours): run `invoke cleanup-edge --suffix {suffix}` later")

    def clean_edge(self, suffix: str, wait_minutes: float = 0.0) -> EdgeCleanupResult:
        """Delete the retained Lambda@Edge functions of `suffix` (idempotent; pending is not an error)."""
        if self.backend.resource_count(get_layer("edge"), suffix):
            raise CatalogError(f"stack {stack_label(get_layer('edge'), suffix)} still holds resources",
                               f"run `invoke down --layer edge --suffix {suffix}` first")
        self.say(f"Lambda@Edge cleanup for suffix {suffix}")
        try:
            cleanup = self.edge.after_destroy(suffix, wait_minutes)
        except CatalogError:
            raise
        except Exception as exc:
            raise OperationFailed("edge", suffix, "Lambda@Edge cleanup", f"{type(exc).__name__}: {exc}") from None
        for line in cleanup.lines:
            self.say(f"  {line}")
        return cleanup

    def down_all(self, suffix: str, *, keep_stacks: bool = False, dry_run: bool = False,
                 edge_wait_minutes: float = 0.0) -> list[StepResult]:
        """observability -> network, then the Lambda@Edge functions (retried for `edge_wait_minutes` while AWS
        still holds their replicas). Re-running finishes a failed run. Lists what every stack's destroy deletes and
        asks once, before the first."""
        if not dry_run:
            stacks = [(layer, count) for layer in reverse_order()
                      if (count := self.backend.resource_count(layer, suffix)) is not None]
            if stacks and not self._approve_down(stacks, suffix, keep_stacks, True):
                self.say(f"suffix {suffix}: nothing destroyed; nothing changed")
                return [StepResult(layer.name, DECLINED, {}, ok=False) for layer, _ in stacks]
        results = self._sequence(reverse_order(), lambda layer: self.down(
            layer, suffix, force=True, keep_stack=keep_stacks, dry_run=dry_run, clean_edge=False, approved=True))
        if dry_run:
            self.say(f"{EDGE_FUNCTIONS}: delete the retained Lambda@Edge functions of {suffix} once their "
                     "replicas are gone (pending ones are reported)")
            return [*results, StepResult(EDGE_FUNCTIONS, "dry run", {})]
        if self.backend.resource_count(get_layer("edge"), suffix):
            return [*results, StepResult(EDGE_FUNCTIONS, "not run", {})]
        started = self.clock()
        try:
            cleanup = self.clean_edge(suffix, edge_wait_minutes)
        except (OperationFailed, CatalogError) as exc:
            message = exc.message if isinstance(exc, OperationFailed) else str(exc)
            return [*results, StepResult(EDGE_FUNCTIONS, "failed", {}, self.clock() - started, ok=False,
                                         detail=message)]
        step = StepResult(EDGE_FUNCTIONS, "pending" if cleanup.pending else "clean", {}, self.clock() - started)
        if cleanup.pending:
            step.detail = (f"{', '.join(cleanup.pending)} still replicated at the edge (AWS removes replicas "
                           f"within hours): run `invoke cleanup-edge --suffix {suffix}` later")
        return [*results, step]
