"""The app layer's waiting room under mocks: the API's WAITING_ROOM_* environment and rights, the controller
function (the API's image with its own command), its role, and the schedule that runs it once a minute, disabled
until `waitingRoomSkus` names a SKU."""

from __future__ import annotations

import json
from typing import Any

import pytest

from projects.app.settings import NAMESPACE, Settings
from shared.plan.identity import plan_only_identity
from shared.plan.planner import Plan, PlanError
from shared.runtime import waiting_room as room
from shared.runtime.errors import ConfigError
from shared.runtime.settings import load_settings
from tests.conftest import SUFFIX

ACCOUNT = "123456789012"
FUNCTION = "aws:lambda/function:Function"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ON = {
    "catalog-app:waitingRoomSkus": "SKU-000123, SKU-000456",
    "catalog-app:waitingRoomAdmitPerSecond": "40",
    "catalog-app:waitingRoomMaxActive": "800",
    "catalog-app:waitingRoomPassSeconds": "90",
    "catalog-app:waitingRoomStartsAt": "2030-05-01T18:00:00Z",
    "catalog-app:waitingRoomEndsAt": "2030-05-01T20:00:00Z",
}
# A sale long over: its room deploys as no room.
ENDED = {
    **ON,
    "catalog-app:waitingRoomStartsAt": "2020-05-01T18:00:00Z",
    "catalog-app:waitingRoomEndsAt": "2020-05-01T20:00:00Z",
}


@pytest.fixture(scope="module")
def app(chain: dict[str, Plan]) -> Plan:
    return chain["app"]


@pytest.fixture(scope="module")
def data(chain: dict[str, Plan]) -> Plan:
    return chain["data"]


@pytest.fixture(scope="module")
def on(plan_with: Any) -> Plan:
    return plan_with("app", ON)


def statements(plan: Plan, name: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(plan.by_name(name).get("policy"))["Statement"]}


def test_without_skus_the_api_has_no_room_and_the_schedule_is_disabled(app: Plan, data: Plan) -> None:
    env = app.by_name("api").get("environment", "variables")
    assert env["WAITING_ROOM_SKUS"] == ""  # the API: no room, every SKU sells directly
    assert env["WAITING_ROOM_TABLE"] == data.export_value("waitingRoomTableName")
    assert env["WAITING_ROOM_SECRET_ARN"] == data.export_value("waitingRoomKeySecretArn")
    assert env["WAITING_ROOM_CONTROLLER_MS"] == "0"
    assert "WAITING_ROOM_STARTS_AT" not in env and "WAITING_ROOM_SECRET" not in env
    assert "WAITING_ROOM_ENDS_AT" not in env
    assert app.one(SCHEDULE).get("state") == "DISABLED"
    assert app.one(SCHEDULE).get("startDate") is None and app.one(SCHEDULE).get("endDate") is None
    assert app.export_value("waitingRoomSkus") == []


def test_with_skus_the_api_and_the_controller_get_the_same_room(on: Plan) -> None:
    api = on.by_name("api").get("environment", "variables")
    controller = on.by_name("waiting-room-controller").get("environment", "variables")
    expected = {
        "WAITING_ROOM_SKUS": "SKU-000123,SKU-000456",
        "WAITING_ROOM_ADMIT_PER_SECOND": "40",
        "WAITING_ROOM_MAX_ACTIVE": "800",
        "WAITING_ROOM_PASS_SECONDS": "90",
        "WAITING_ROOM_STARTS_AT": "2030-05-01T18:00:00Z",
        "WAITING_ROOM_ENDS_AT": "2030-05-01T20:00:00Z",
    }
    for env in (api, controller):
        assert {k: env[k] for k in expected} == expected
        assert env["WAITING_ROOM_TABLE"] == api["WAITING_ROOM_TABLE"]
    # The controller signs nothing: no key, no database, no in-process controller setting.
    assert not [k for k in controller if "SECRET" in k or k.startswith("DB_")]
    assert controller["POWERTOOLS_SERVICE_NAME"] == api["POWERTOOLS_SERVICE_NAME"]
    assert on.one(SCHEDULE).get("state") == "ENABLED"
    assert on.export_value("waitingRoomSkus") == ["SKU-000123", "SKU-000456"]


def test_the_controller_is_the_api_image_with_its_command_small_and_outside_the_vpc(app: Plan) -> None:
    fn, api = app.by_name("waiting-room-controller"), app.by_name("api")
    assert fn.get("name") == f"catalog-waiting-room-{SUFFIX}"
    assert fn.get("packageType") == "Image" and fn.get("imageUri") == api.get("imageUri")
    assert fn.get("imageConfig", "commands") == ["src/waiting-room-controller.handler"]
    assert fn.get("architectures") == ["arm64"]
    assert (fn.get("memorySize"), fn.get("timeout"), fn.get("reservedConcurrentExecutions")) == (512, 60, 2)
    assert fn.get("vpcConfig") is None
    assert fn.get("role") == f"arn:aws:iam::{ACCOUNT}:role/catalog-waiting-room-{SUFFIX}"
    log = app.by_name("waiting-room-logs")
    assert log.get("name") == fn.get("loggingConfig", "logGroup") == f"/aws/lambda/{fn.get('name')}"
    assert log.get("retentionInDays") == 30
    assert app.export_value("waitingRoomFunctionName") == fn.get("name")


def test_the_controller_role_reaches_its_table_and_index_only(app: Plan, data: Plan) -> None:
    table = data.export_value("waitingRoomTableArn")
    found = statements(app, "waiting-room-role-policy")
    assert found["WaitingRoomTable"]["Resource"] == [table]
    assert set(found["WaitingRoomTable"]["Action"]) == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
    }
    assert found["WaitingRoomQueue"] == {
        "Sid": "WaitingRoomQueue",
        "Effect": "Allow",
        "Action": ["dynamodb:Query"],
        "Resource": [f"{table}/index/queue"],
    }
    log_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/catalog-waiting-room-{SUFFIX}"
    assert found["OwnLogGroup"]["Resource"] == [log_arn, f"{log_arn}:*"]
    assert set(found) == {"OwnLogGroup", "WaitingRoomTable", "WaitingRoomQueue", "XRay"}
    every = [a for s in found.values() for a in s["Action"]]
    assert not [a for a in every if a.startswith(("secretsmanager:", "ec2:", "rds-db:")) or "*" in a]
    role = app.by_name("waiting-room-role")
    assert role.get("permissionsBoundary") == f"arn:aws:iam::{ACCOUNT}:policy/catalog-app-boundary-{SUFFIX}"


def test_the_schedule_runs_it_every_minute_with_a_role_that_may_only_invoke_it(app: Plan) -> None:
    schedule = app.one(SCHEDULE)
    fn_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:catalog-waiting-room-{SUFFIX}"
    assert schedule.get("name") == f"catalog-waiting-room-{SUFFIX}" and schedule.get("groupName") == "default"
    assert schedule.get("scheduleExpression") == "rate(1 minute)"
    assert schedule.get("flexibleTimeWindow") == {"mode": "OFF"}
    assert schedule.get("target", "arn") == fn_arn
    assert schedule.get("target", "roleArn") == f"arn:aws:iam::{ACCOUNT}:role/catalog-waiting-room-schedule-{SUFFIX}"
    assert schedule.get("target", "retryPolicy") == {"maximumRetryAttempts": 0, "maximumEventAgeInSeconds": 60}
    assert app.export_value("waitingRoomScheduleName") == schedule.get("name")
    trust = json.loads(app.by_name("waiting-room-schedule-role").get("assumeRolePolicy"))
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": ACCOUNT,
                    "aws:SourceArn": f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/default",
                }
            },
        }
    ]
    assert statements(app, "waiting-room-schedule-invoke") == {
        "InvokeController": {
            "Sid": "InvokeController",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [fn_arn, f"{fn_arn}:*"],
        }
    }


def test_the_schedule_runs_from_before_the_start_until_the_last_pass_has_expired(on: Plan) -> None:
    schedule = on.one(SCHEDULE)
    assert schedule.get("state") == "ENABLED"
    assert schedule.get("startDate") == "2030-05-01T17:55:00Z"  # the start less CONTROLLER_LEAD (5 min)
    assert schedule.get("endDate") == "2030-05-01T20:01:30Z"  # the end plus one pass lifetime (90 s)
    assert on.export_value("waitingRoomEndsAt") == "2030-05-01T20:00:00Z"


def test_a_room_past_its_end_deploys_as_no_room(plan_with: Any) -> None:
    ended = plan_with("app", ENDED)
    for name in ("api", "waiting-room-controller"):
        env = ended.by_name(name).get("environment", "variables")
        assert env["WAITING_ROOM_SKUS"] == ""  # every SKU sells directly
        assert "WAITING_ROOM_STARTS_AT" not in env and "WAITING_ROOM_ENDS_AT" not in env
    schedule = ended.one(SCHEDULE)
    assert schedule.get("state") == "DISABLED"
    assert schedule.get("startDate") is None and schedule.get("endDate") is None
    assert ended.export_value("waitingRoomSkus") == []


def test_the_controller_window_leaves_out_a_start_date_scheduler_would_refuse() -> None:
    from datetime import UTC, datetime

    start, end = "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z"
    skus = ("SKU-1",)

    def window(now: datetime) -> room.ControllerWindow:
        return room.controller_window(skus, start, end, 120, now)

    assert window(datetime(2030, 5, 1, 17, 0, tzinfo=UTC)) == room.ControllerWindow(
        True, "2030-05-01T17:55:00Z", "2030-05-01T20:02:00Z"
    )
    # Within a minute of the StartDate, or past it (Scheduler refuses one more than 5 minutes old): runs at once.
    assert window(datetime(2030, 5, 1, 17, 54, 30, tzinfo=UTC)).start_date is None
    assert window(datetime(2030, 5, 1, 19, 0, tzinfo=UTC)) == room.ControllerWindow(True, None, "2030-05-01T20:02:00Z")
    assert window(datetime(2030, 5, 1, 20, 2, tzinfo=UTC)) == room.ControllerWindow(False, None, None)
    assert room.controller_window((), start, end, 120) == room.ControllerWindow(False, None, None)
    # No end (a room set by hand): enabled, no EndDate.
    assert room.controller_window(skus, None, None, 120).end_date is None


def test_the_schedule_dates_are_what_scheduler_takes() -> None:
    from datetime import UTC, datetime

    import botocore.session
    from botocore.utils import parse_timestamp

    members = botocore.session.get_session().get_service_model("scheduler").shape_for("CreateScheduleInput").members
    assert members["StartDate"].type_name == members["EndDate"].type_name == "timestamp"
    # pulumi_aws takes an RFC 3339 UTC string (its example: 2030-01-01T01:00:00Z); botocore reads it as that instant.
    w = room.controller_window(
        ("SKU-1",), "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z", 120, datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert w.start_date is not None and w.end_date is not None
    assert parse_timestamp(w.start_date) == datetime(2030, 5, 1, 17, 55, tzinfo=UTC)
    assert parse_timestamp(w.end_date) == datetime(2030, 5, 1, 20, 2, tzinfo=UTC)


def test_settings_within_botocore_and_the_api_ranges() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("scheduler")
    retry = model.shape_for("RetryPolicy").members
    assert retry["MaximumRetryAttempts"].metadata["min"] <= 0
    assert retry["MaximumEventAgeInSeconds"].metadata["min"] <= 60
    lam = botocore.session.get_session().get_service_model("lambda").shape_for("CreateFunctionRequest").members
    assert lam["MemorySize"].metadata["min"] <= room.CONTROLLER_MEMORY_MB <= lam["MemorySize"].metadata["max"]
    assert lam["Timeout"].metadata["max"] >= room.CONTROLLER_TIMEOUT_S


def settings(**raw: str) -> Settings:
    return load_settings(Settings, NAMESPACE, {**plan_only_identity(), **raw}, {"originVerifySecret": "<secret>"})


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"waitingRoomSkus": "SKU-1,bad sku"}, r"catalog-app:waitingRoomSkus: 'bad sku' is not a SKU"),
        ({"waitingRoomSkus": "SKU-1,SKU-1"}, r"catalog-app:waitingRoomSkus: a SKU is listed twice"),
        ({"waitingRoomAdmitPerSecond": "0"}, r"catalog-app:waitingRoomAdmitPerSecond: 0 is outside .*1-100000"),
        ({"waitingRoomMaxActive": "0"}, r"catalog-app:waitingRoomMaxActive: 0 is outside"),
        ({"waitingRoomPassSeconds": "4"}, r"catalog-app:waitingRoomPassSeconds: 4 is outside .*5-3600"),
        ({"waitingRoomStartsAt": "tomorrow"}, r"catalog-app:waitingRoomStartsAt: 'tomorrow' is not an ISO 8601"),
        ({"waitingRoomEndsAt": "later"}, r"catalog-app:waitingRoomEndsAt: 'later' is not an ISO 8601"),
        (
            {"waitingRoomStartsAt": "2030-05-01T18:00:00Z", "waitingRoomEndsAt": "2030-05-01T18:00:00Z"},
            r"catalog-app:waitingRoomEndsAt: 2030-05-01T18:00:00Z is not after waitingRoomStartsAt",
        ),
    ],
)
def test_bad_waiting_room_settings_are_refused_in_one_line(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        settings(**raw)
    assert "\n" not in str(info.value)


def test_a_bad_sku_stops_the_plan_before_any_resource(plan_with: Any) -> None:
    with pytest.raises(PlanError, match="waitingRoomSkus: 'SKU 1' is not a SKU"):
        plan_with("app", {"catalog-app:waitingRoomSkus": "SKU 1"})
