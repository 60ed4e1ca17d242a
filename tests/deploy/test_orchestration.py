"""The orchestration logic against the in-memory StackBackend: ordering, guards and their messages, secrets,
idempotent and resumable down-all, --dry-run. No Pulumi CLI, no AWS."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from projects.data.settings import check_password
from shared.deploy.cloud import EdgeCleanupResult
from shared.deploy.guards import STACK_SECRETS
from shared.deploy.interface import ConfigEntry
from shared.deploy.report import render_summary
from shared.deploy.runner import EDGE_FUNCTIONS, Orchestrator
from shared.plan.identity import plan_only_identity
from shared.runtime.errors import CatalogError, ConfigError, ContractError
from shared.runtime.layers import LAYER_NAMES, get_layer
from tests.support.memory import InMemoryBackend

S = "qa"
DATA, APP, EDGE, NETWORK = (get_layer(n) for n in ("data", "app", "edge", "network"))


@dataclass
class EdgeStandIn:
    """Stand-in for the orchestration's EdgeCleaner interface (not for boto3)."""

    pending: tuple[str, ...] = ()
    refuse: str | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def before_up(self, suffix: str) -> None:
        self.calls.append(("before_up", suffix))
        if self.refuse:
            raise CatalogError(self.refuse, "wait")

    def after_destroy(self, suffix: str, wait_minutes: float = 0.0) -> EdgeCleanupResult:
        self.calls.append(("after_destroy", suffix))
        self.waits.append(wait_minutes)
        lines = tuple(f"{name}: still replicated" for name in self.pending) or ("deleted both functions",)
        return EdgeCleanupResult(lines, self.pending)


@dataclass
class ReadersStandIn:
    backend: InMemoryBackend
    removed: list[str] = field(default_factory=lambda: ["application-autoscaling-1"])
    calls: list[tuple[str, list[str], int]] = field(default_factory=list)

    def __call__(self, cluster_id: str, managed: list[str]) -> list[str]:
        self.calls.append((cluster_id, list(managed), len(self.backend.calls)))
        return list(self.removed)


class AccountStandIn:
    """The account's API Gateway settings: a CloudWatch role is set unless a test removes it."""

    def __init__(self) -> None:
        self.role: str | None = "arn:aws:iam::123456789012:role/apigateway-cloudwatch"

    def api_gateway_logging_role(self) -> str | None:
        return self.role


class World:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.backend = InMemoryBackend()
        self.lines: list[str] = []
        self.edge = EdgeStandIn()
        self.readers = ReadersStandIn(self.backend)
        ticks = itertools.count(0, 2)
        self.account = AccountStandIn()
        # The operator at the question: answers `answer` and is recorded (the terminal side is tests/deploy/
        # test_confirmation.py's).
        self.questions: list[str] = []
        self.answer = True
        self.orch = Orchestrator(self.backend, say=self.lines.append, remove_readers=self.readers,
                                 edge=self.edge, account=self.account, env=env or {},
                                 clock=lambda: float(next(ticks)), confirm=self.confirm)

    def confirm(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer

    def deploy_all(self) -> None:
        for name in LAYER_NAMES:
            self.backend.deployed(get_layer(name), S)


@pytest.fixture
def world() -> World:
    return World()


def set_identity(world: World) -> None:
    """The app layer refuses to deploy without its identity settings (catalog-app:auth*): set them once."""
    for key, value in plan_only_identity().items():
        world.backend.set_config(APP, S, f"catalog-app:{key}", value)


# --- up / up-all ---------------------------------------------------------------------------------------------
def test_up_all_deploys_forward_after_secrets(world: World) -> None:
    world.orch.ensure_secrets(S)
    set_identity(world)
    results = world.orch.up_all(S)
    assert [op for op in world.backend.ops("up")] == [("up", name) for name in LAYER_NAMES]
    assert [r.result for r in results] == ["deployed"] * 5 and all(r.ok for r in results)
    assert all(world.backend.stacks[(n, S)].config["aws:region"].value == "us-east-1" for n in LAYER_NAMES)
    table = render_summary(results)
    assert table.splitlines()[0].split() == ["layer", "result", "changes", "duration"]
    assert "network" in table and "+5" in table and "2s" in table
    assert any("create" in line and "network-resource-0" in line for line in world.lines)


def test_up_refuses_without_upstream_stack_and_names_the_command(world: World) -> None:
    with pytest.raises(ContractError) as err:
        world.orch.up(DATA, S)
    assert "catalog-network/qa, which does not exist" in str(err.value)
    assert "invoke up --layer network --suffix qa" in str(err.value)
    assert world.backend.calls == []


def test_up_refuses_when_upstream_lacks_an_output_the_layer_reads(world: World) -> None:
    world.backend.deployed(NETWORK, S)
    world.backend.stacks[("network", S)].outputs.pop("privateSubnetIds")
    world.orch.env = {"CATALOG_DB_PASSWORD": "x" * 12}
    with pytest.raises(ContractError) as err:
        world.orch.up(DATA, S)
    assert "does not export privateSubnetIds, which layer data reads" in str(err.value)
    assert "invoke up --layer network --suffix qa" in str(err.value)
    assert world.backend.ops("up") == []


def test_up_ignores_upstream_outputs_the_layer_does_not_read(world: World) -> None:
    world.backend.deployed(NETWORK, S)
    world.backend.stacks[("network", S)].outputs.pop("vpcCidr")  # no reader
    world.orch.env = {"CATALOG_DB_PASSWORD": "x" * 12}
    assert world.orch.up(DATA, S).result == "deployed"


def test_up_refuses_missing_secret_naming_invoke_secrets(world: World) -> None:
    world.backend.deployed(NETWORK, S)
    opt_in = {"data": {"manageMasterPassword": "false"}}  # the config master password is an opt-in
    with pytest.raises(ConfigError, match=r"no secret catalog-data:dbPassword.*invoke secrets --suffix qa.*"
                                          r"CATALOG_DB_PASSWORD"):
        world.orch.up(DATA, S, opt_in)
    assert world.backend.ops("ensure") == []
    world.orch.env = {"CATALOG_DB_PASSWORD": "from-env-Passw0rd"}
    assert world.orch.up(DATA, S, opt_in).ok


def test_up_needs_no_master_password_by_default(world: World) -> None:
    world.backend.deployed(NETWORK, S)
    assert world.orch.up(DATA, S).ok  # RDS generates and rotates it
    assert "catalog-data:dbPassword" not in world.backend.stacks[("data", S)].config


def test_up_all_checks_every_layer_before_deploying_the_first(world: World) -> None:
    with pytest.raises(ConfigError, match="catalog-app:"):  # a later layer refuses: nothing deployed
        world.orch.up_all(S)
    assert world.backend.ops("up") == []


def test_up_sets_config_overrides_and_checks_them_against_the_stack(world: World) -> None:
    world.orch.ensure_secrets(S)
    world.backend.deployed(NETWORK, S)
    world.backend.stacks[("data", S)].config["catalog-data:maxAcu"] = ConfigEntry("32")
    world.orch.up(DATA, S, {"data": {"minAcu": "20", "dbPassword": "Other-passw0rd-123"}})
    config = world.backend.stacks[("data", S)].config
    assert config["catalog-data:minAcu"] == ConfigEntry("20", False)
    assert config["catalog-data:dbPassword"] == ConfigEntry("Other-passw0rd-123", True)
    world.backend.stacks[("data", S)].config["catalog-data:maxAcu"] = ConfigEntry("4")
    before = list(world.backend.calls)
    with pytest.raises(ConfigError, match=r"min ACU 8\.0 is above max ACU 4\.0"):
        world.orch.up(DATA, S, {"data": {"minAcu": "8"}})
    assert world.backend.calls == before


def test_up_all_failure_stops_and_rerun_resumes(world: World) -> None:
    world.orch.ensure_secrets(S)
    set_identity(world)
    world.backend.fail_on[("up", "app")] = "ALB quota exceeded"
    results = world.orch.up_all(S)
    assert [(r.layer, r.result) for r in results] == [
        ("network", "deployed"), ("data", "deployed"), ("app", "failed"), ("edge", "not run"),
        ("observability", "not run")]
    assert results[2].detail.endswith("ALB quota exceeded") and not results[2].ok
    world.questions.clear()
    results = world.orch.up_all(S)
    # The re-run previews every layer: the deployed ones have nothing to change (no question, no update).
    assert [r.result for r in results] == ["no changes", "no changes", "deployed", "deployed", "deployed"]
    assert results[0].changes == {"same": 5}  # network untouched the second time
    assert world.questions == [f"Deploy these 5 changes to catalog-{name}/qa?" for name in ("app", "edge",
                                                                                           "observability")]


def test_up_edge_clears_retained_functions_only_when_its_stack_is_empty(world: World) -> None:
    world.orch.ensure_secrets(S)
    for name in ("network", "data", "app"):
        world.backend.deployed(get_layer(name), S)
    world.edge.refuse = "catalog-edge-auth-qa is still replicated"
    with pytest.raises(CatalogError, match="still replicated"):
        world.orch.up(EDGE, S)
    assert world.backend.ops("up") == []
    world.edge.refuse = None
    world.orch.up(EDGE, S)
    world.orch.up(EDGE, S)  # deployed now: no cleanup attempt against live functions
    assert world.edge.calls == [("before_up", S), ("before_up", S)]


def test_preview_runs_preview_not_up(world: World) -> None:
    result = world.orch.preview(NETWORK, S)
    assert result.result == "previewed" and world.backend.ops("preview") == [("preview", "network")]
    assert world.backend.ops("up") == []


# --- secrets ------------------------------------------------------------------------------------------------
def test_secrets_generated_once_never_printed_and_valid(world: World) -> None:
    world.backend.ensure_stack(DATA, S)
    world.backend.set_config(DATA, S, "catalog-data:manageMasterPassword", "false")  # the opt-in
    lines = world.orch.ensure_secrets(S)
    data_pw = world.backend.stacks[("data", S)].config["catalog-data:dbPassword"]
    origin = world.backend.stacks[("app", S)].config["catalog-app:originVerifySecret"]
    assert data_pw.secret and origin.secret
    assert all(data_pw.value not in line and origin.value not in line for line in lines + world.lines)
    check_password(data_pw.value)  # the data layer's own rule (8-41, no / " @)
    assert 16 <= len(origin.value) <= 128 and "*" not in origin.value and "?" not in origin.value
    assert set(STACK_SECRETS) == {"data", "app"}
    again = world.orch.ensure_secrets(S)
    assert all("kept" in line for line in again)
    assert world.backend.stacks[("data", S)].config["catalog-data:dbPassword"] == data_pw


def test_secrets_generate_no_master_password_while_rds_manages_it(world: World) -> None:
    lines = world.orch.ensure_secrets(S)
    assert "catalog-data:dbPassword" not in world.backend.stacks[("data", S)].config
    assert any(line.startswith("catalog-data:dbPassword: not needed") for line in lines)
    assert world.backend.stacks[("app", S)].config["catalog-app:originVerifySecret"].secret


def test_secrets_turn_a_plain_value_into_a_secret(world: World) -> None:
    world.backend.ensure_stack(DATA, S)
    world.backend.set_config(DATA, S, "catalog-data:dbPassword", "Plain-passw0rd-1")
    lines = world.orch.ensure_secrets(S)
    assert world.backend.stacks[("data", S)].config["catalog-data:dbPassword"] == ConfigEntry(
        "Plain-passw0rd-1", True)
    assert any("now stored as a secret" in line for line in lines)


# --- down ---------------------------------------------------------------------------------------------------
def test_down_refuses_while_a_downstream_stack_holds_resources(world: World) -> None:
    world.deploy_all()
    with pytest.raises(ContractError) as err:
        world.orch.down(DATA, S)
    message = str(err.value)
    assert "catalog-observability/qa still holds 5 resources" in message
    assert "invoke down --layer observability --suffix qa" in message and "--force" in message
    assert world.backend.ops("destroy") == []
    assert world.orch.down(DATA, S, force=True).result == "destroyed, stack removed"


def test_down_of_data_removes_autoscaled_readers_before_destroy(world: World) -> None:
    world.backend.deployed(DATA, S)
    world.orch.down(DATA, S)
    [(cluster, managed, calls_before)] = world.readers.calls
    assert cluster == "catalog-db-qa" and managed == ["catalog-db-writer-qa", "catalog-db-reader-1-qa"]
    assert ("destroy", "data", S) not in world.backend.calls[:calls_before]
    assert world.backend.calls[calls_before:] == [("destroy", "data", S), ("remove", "data", S)]
    assert any("application-autoscaling-1" in line for line in world.lines)


def test_down_of_edge_cleans_up_functions_and_reports_pending(world: World) -> None:
    world.backend.deployed(EDGE, S)
    world.edge.pending = ("catalog-edge-auth-qa",)
    result = world.orch.down(EDGE, S)
    assert result.ok and world.edge.calls == [("after_destroy", S)]
    assert "invoke cleanup-edge --suffix qa" in result.detail
    assert world.backend.ops() == [("preview_destroy", "edge"), ("destroy", "edge"), ("remove", "edge")]


def test_down_keep_stack_and_missing_stack(world: World) -> None:
    world.backend.deployed(NETWORK, S)
    assert world.orch.down(NETWORK, S, keep_stack=True).result == "destroyed"
    assert world.backend.resource_count(NETWORK, S) == 0
    assert world.orch.down(NETWORK, S).result == "was empty, stack removed"
    assert world.orch.down(NETWORK, S).result == "skipped (no stack)"


# --- down-all -----------------------------------------------------------------------------------------------
def test_down_all_reverse_order_skips_never_deployed_and_cleans_edge_last(world: World) -> None:
    for name in ("network", "data", "app", "edge"):  # observability never deployed
        world.backend.deployed(get_layer(name), S)
    results = world.orch.down_all(S)
    assert [(r.layer, r.result) for r in results] == [
        ("observability", "skipped (no stack)"), ("edge", "destroyed, stack removed"),
        ("app", "destroyed, stack removed"), ("data", "destroyed, stack removed"),
        ("network", "destroyed, stack removed"), (EDGE_FUNCTIONS, "clean")]
    assert world.backend.ops("destroy") == [("destroy", n) for n in ("edge", "app", "data", "network")]
    assert world.edge.calls == [("after_destroy", S)]  # once, at the end: replicas had the most time
    assert world.backend.stacks == {}
    again = world.orch.down_all(S)  # idempotent
    assert [r.result for r in again[:-1]] == ["skipped (no stack)"] * 5
    assert world.backend.ops("destroy") == [("destroy", n) for n in ("edge", "app", "data", "network")]


def test_down_all_resumes_after_a_failure(world: World) -> None:
    world.deploy_all()
    world.backend.fail_on[("destroy", "data")] = "DBClusterInvalidState"
    first = world.orch.down_all(S)
    assert [(r.layer, r.result) for r in first[:5]] == [
        ("observability", "destroyed, stack removed"), ("edge", "destroyed, stack removed"),
        ("app", "destroyed, stack removed"), ("data", "failed"), ("network", "not run")]
    assert not first[3].ok and "DBClusterInvalidState" in first[3].detail
    assert first[-1].result == "clean"  # the edge stack is gone, so its functions were still tried
    assert world.backend.resource_count(NETWORK, S) == 5
    second = world.orch.down_all(S)
    assert [r.result for r in second[:5]] == ["skipped (no stack)"] * 3 + ["destroyed, stack removed"] * 2
    assert world.backend.ops("destroy")[-2:] == [("destroy", "data"), ("destroy", "network")]
    assert len(world.readers.calls) == 2  # readers removed again before the retried destroy


def test_down_all_keep_stacks_then_removes_them_on_a_later_run(world: World) -> None:
    world.deploy_all()
    world.orch.down_all(S, keep_stacks=True)
    assert all(world.backend.resource_count(get_layer(n), S) == 0 for n in LAYER_NAMES)
    results = world.orch.down_all(S)
    assert [r.result for r in results[:5]] == ["was empty, stack removed"] * 5
    assert world.backend.stacks == {}


def test_down_all_dry_run_changes_nothing_and_prints_the_plan(world: World) -> None:
    world.deploy_all()
    before = {k: (v.resources, dict(v.outputs)) for k, v in world.backend.stacks.items()}
    results = world.orch.down_all(S, dry_run=True)
    assert [r.result for r in results] == ["dry run"] * 6
    assert world.backend.ops("destroy") == [] and world.backend.ops("remove") == []
    assert world.readers.calls == [] and world.edge.calls == []
    assert {k: (v.resources, dict(v.outputs)) for k, v in world.backend.stacks.items()} == before
    text = "\n".join(world.lines)
    assert text.index("observability: destroy 5") < text.index("network: destroy 5")
    assert "cluster catalog-db-qa that are not in Pulumi state" in text
    assert "retained Lambda@Edge functions" in text


def test_down_all_reports_pending_edge_functions_without_failing(world: World) -> None:
    world.backend.deployed(EDGE, S)
    world.edge.pending = ("catalog-edge-auth-qa", "catalog-edge-headers-qa")
    results = world.orch.down_all(S, edge_wait_minutes=30)
    assert results[-1].result == "pending" and results[-1].ok
    assert world.edge.waits == [30]
    assert "invoke cleanup-edge --suffix qa" in results[-1].detail


def test_clean_edge_refuses_while_the_edge_stack_holds_resources(world: World) -> None:
    world.backend.deployed(EDGE, S)
    with pytest.raises(CatalogError, match="invoke down --layer edge --suffix qa"):
        world.orch.clean_edge(S)
    assert world.edge.calls == []


# --- refresh / drift / outputs ------------------------------------------------------------------------------
def test_drift_and_refresh(world: World) -> None:
    world.deploy_all()
    assert world.orch.drift(APP, S).result == "in sync"
    world.backend.drifted["app"] = 2
    result = world.orch.drift(APP, S)
    assert result.result == "drifted" and not result.ok and result.changes["update"] == 2
    assert [r.layer for r in world.orch.drift_all(S) if r.result == "drifted"] == ["app"]
    assert world.orch.refresh(APP, S).result == "refreshed"
    assert world.backend.ops("up") == [] and world.backend.ops("destroy") == []


def test_inspecting_a_missing_stack_says_how_to_deploy_it(world: World) -> None:
    for call in (world.orch.refresh, world.orch.drift, world.orch.outputs):
        with pytest.raises(CatalogError, match=r"catalog-app/qa does not exist.*invoke up --layer app --suffix qa"):
            call(APP, S)
    with pytest.raises(CatalogError, match="no stack of suffix qa holds resources"):
        world.orch.drift_all(S)


def test_up_app_refuses_without_the_api_gateway_logging_role(world: World) -> None:
    """AWS refuses a stage with access logs while the account has no API Gateway CloudWatch role."""
    world.deploy_all()
    world.orch.ensure_secrets(S)
    world.account.role = None
    set_identity(world)
    app = get_layer("app")
    with pytest.raises(CatalogError) as err:
        world.orch.up(app, S)
    assert "no CloudWatch Logs role" in str(err.value)
    assert "--config app:manageApiGatewayAccount=true" in str(err.value)
    # Letting the stack manage the account setting lifts the refusal.
    world.orch.up(app, S, {"app": {"manageApiGatewayAccount": "true"}})


def test_saved_manage_api_gateway_account_counts_on_the_next_up(world: World) -> None:
    """The second `up` reads the flag from the stack's saved config (a ConfigEntry), not from --config."""
    for name in ("network", "data"):
        world.backend.deployed(get_layer(name), S)
    world.orch.ensure_secrets(S)
    set_identity(world)
    world.account.role = None
    app = get_layer("app")
    assert world.orch.up(app, S, {"app": {"manageApiGatewayAccount": "true"}}).result == "deployed"
    assert world.backend.get_config(app, S)["catalog-app:manageApiGatewayAccount"] == ConfigEntry("true")
    # Not refused: it previews (and finds nothing to change, so no update runs).
    assert world.orch.up(app, S).result == "no changes"
    assert world.backend.ops("preview") == [("preview", "app")] * 2 and world.backend.ops("up") == [("up", "app")]


def test_changing_max_connections_on_a_deployed_data_stack_is_refused_without_the_reboot_ack() -> None:
    """max_connections is pending-reboot and nothing reboots the instances; the proxy pool changes at once."""
    world = World()
    world.deploy_all()
    world.orch.ensure_secrets(S)
    ups = len(world.backend.ops("up"))
    with pytest.raises(CatalogError, match=r"maxConnections 1000 -> 2000 on a deployed stack.*reboot") as err:
        world.orch.up(DATA, S, {"data": {"maxConnections": "2000", "proxyMaxConnections": "200"}})
    assert "CATALOG_MAX_CONNECTIONS_REBOOT=1" in str(err.value)
    assert len(world.backend.ops("up")) == ups and "catalog-data:maxConnections" not in world.backend.get_config(
        DATA, S)  # nothing changed
    world.orch.up(DATA, S, {"data": {"maxConnections": "1000"}})  # the value in force: no reboot needed
    acked = World(env={"CATALOG_MAX_CONNECTIONS_REBOOT": "1"})
    acked.deploy_all()
    acked.orch.ensure_secrets(S)
    acked.orch.up(DATA, S, {"data": {"maxConnections": "2000", "proxyMaxConnections": "200"}})
    assert acked.backend.get_config(DATA, S)["catalog-data:maxConnections"] == ConfigEntry("2000")
