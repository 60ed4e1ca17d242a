"""Typed settings: parsing, validation messages, unknown keys, task-boundary checks."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from projects.network.settings import Settings as NetworkSettings
from shared.console import parse_config_pairs
from shared.declarations import settings_class
from shared.runtime.errors import CatalogError, ConfigError
from shared.runtime.settings import check_overrides, describe, load_settings, require, setting


@dataclass(frozen=True)
class Sample:
    count: int = setting("count", 2, "how many")
    ratio: float = setting("ratio", 0.7, "a ratio")
    flag: bool = setting("flag", False, "a flag")
    mode: str = setting("mode", "a", "a mode", choices=("a", "b"))
    names: tuple[str, ...] = setting("names", (), "names")
    maybe: str | None = setting("maybe", None, "optional")
    token: object = setting("token", None, "a secret", secret=True)

    def validate(self) -> None:
        require(self.count >= 1, "demo", "count", f"{self.count} is below 1", "1 or more")


def test_defaults_and_parsing() -> None:
    s = load_settings(Sample, "demo", {"count": "5", "ratio": "0.5", "flag": "true", "mode": "b",
                                       "names": '["x", "y"]', "maybe": "m"})
    assert (s.count, s.ratio, s.flag, s.mode, s.names, s.maybe) == (5, 0.5, True, "b", ("x", "y"), "m")
    assert load_settings(Sample, "demo", {"names": "a, b"}).names == ("a", "b")
    assert load_settings(Sample, "demo", {}) == Sample()


@pytest.mark.parametrize(("values", "message"), [
    ({"count": "two"}, "demo:count = 'two' is not a whole number (expected a whole number, e.g. count="),
    ({"count": "1.5"}, "demo:count = '1.5' is not a whole number"),
    ({"count": ""}, "demo:count is empty (expected a whole number, e.g. count="),
    ({"ratio": " "}, "demo:ratio is empty (expected a number, e.g. ratio="),
    ({"ratio": "half"}, "demo:ratio = 'half' is not a number"),
    ({"flag": "yes"}, "expected true or false"),
    ({"mode": "c"}, "expected one of a, b"),
    ({"names": "[1"}, "demo:names"),
    ({"count": "0"}, "demo:count: 0 is below 1"),
    ({"colour": "red"}, "unknown config key demo:colour"),
])
def test_bad_values_name_the_key_and_what_is_allowed(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(Sample, "demo", values)
    assert message in str(err.value) and "could not convert" not in str(err.value) and "int()" not in str(err.value)


def test_secret_settings_are_never_parsed_and_come_from_secrets() -> None:
    s = load_settings(Sample, "demo", {}, secrets={"token": "opaque"})
    assert s.token == "opaque"


def test_describe_lists_every_key_with_docs() -> None:
    keys = [i.key for i in describe(NetworkSettings)]
    assert keys == ["cidr", "azs", "natGateways", "flowLogRetentionDays"]
    assert all(i.doc for i in describe(NetworkSettings))


def test_every_layer_settings_class_documents_each_key() -> None:
    from shared.plan.identity import plan_only_identity
    from shared.runtime.layers import LAYER_NAMES

    for layer in LAYER_NAMES:
        cls = settings_class(layer)
        infos = describe(cls)
        assert infos, layer
        for info in infos:
            assert info.doc, f"{layer}:{info.key} has no doc"
            assert info.key[0].islower() and "_" not in info.key, f"{layer}:{info.key} is not camelCase"
        # The defaults themselves are valid; the app layer's identity has no default (no "auth off" mode).
        required = plan_only_identity() if layer == "app" else {}
        load_settings(cls, f"catalog-{layer}", required)


def test_check_overrides_uses_the_base_for_cross_field_rules() -> None:
    check_overrides(NetworkSettings, "catalog-network", {"natGateways": "single"}, base={"cidr": "10.1.0.0/16"})
    with pytest.raises(ConfigError, match="catalog-network:cidr"):
        check_overrides(NetworkSettings, "catalog-network", {"natGateways": "single"}, base={"cidr": "nope"})
    with pytest.raises(ConfigError, match="unknown config key catalog-network:color"):
        check_overrides(NetworkSettings, "catalog-network", {"color": "x"})


def test_parse_config_pairs() -> None:
    assert parse_config_pairs(["data:minAcu=1", "data:maxAcu=16", "app:x=a=b"]) == {
        "data": {"minAcu": "1", "maxAcu": "16"}, "app": {"x": "a=b"}}
    for bad in ["data=1", "minAcu=1", ":k=v", "data:=v"]:
        with pytest.raises(CatalogError, match="is not layer:key=value"):
            parse_config_pairs([bad])
    with pytest.raises(CatalogError, match="unknown layer"):
        parse_config_pairs(["storage:x=1"])


def test_sequence_defaults_must_be_immutable() -> None:
    with pytest.raises(TypeError):
        setting("x", [1])
