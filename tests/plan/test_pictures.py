"""The README's architecture picture cannot drift: `invoke docs --check` compares docs/architecture.dot with the
offline plan and the PNG's embedded source hash with that source; a changed component makes both stale."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from shared.plan.offline import offline_config
from shared.plan.pictures import (
    DOT_FILE,
    PICTURE_SUFFIX,
    PNG_FILE,
    check_pictures,
    embedded_hash,
    redraw,
    source_hash,
    with_hash,
)
from shared.plan.planner import plan_chain
from shared.plan.report import overview_dot
from shared.runtime.errors import CatalogError

# A 1x1 PNG (header, data, end), enough to carry a text chunk.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_the_committed_picture_is_the_plans() -> None:
    state = check_pictures()
    assert state.stale == (), f"{state.stale}: run `invoke docs`"
    assert embedded_hash(PNG_FILE.read_bytes()) == source_hash(DOT_FILE.read_text())


def test_a_changed_component_makes_the_source_and_the_png_stale(tmp_path: Path) -> None:
    # A real change: an alarm e-mail adds a subscription to the alarm topic's component.
    config, secret_keys = offline_config({"observability": {"alarmEmails": "oncall@example.com"}})
    changed = overview_dot(plan_chain(PICTURE_SUFFIX, config, secret_keys=secret_keys)) + "\n"
    dot, png = tmp_path / "architecture.dot", tmp_path / "architecture.png"
    dot.write_text(DOT_FILE.read_text())
    png.write_bytes(PNG_FILE.read_bytes())
    if changed == dot.read_text():
        pytest.fail("the override did not change the picture's source; pick another")
    assert check_pictures(dot, png, source=changed).stale == (str(dot), str(png))
    assert check_pictures(dot, png, source=dot.read_text()).stale == ()


def test_a_png_drawn_from_another_source_is_stale(tmp_path: Path) -> None:
    dot, png = tmp_path / "a.dot", tmp_path / "a.png"
    dot.write_text("digraph a {}\n")
    png.write_bytes(with_hash(TINY_PNG, source_hash("digraph b {}\n")))
    assert check_pictures(dot, png, source="digraph a {}\n").stale == (str(png),)
    png.write_bytes(TINY_PNG)  # no hash at all: a picture drawn by hand
    assert check_pictures(dot, png, source="digraph a {}\n").stale == (str(png),)


def test_the_hash_chunk_is_a_valid_png_chunk() -> None:
    stamped = with_hash(with_hash(TINY_PNG, "a" * 64), "b" * 64)  # replaced, not repeated
    assert embedded_hash(stamped) == "b" * 64 and stamped.count(b"catalog-source-sha256") == 1
    (length,) = struct.unpack(">I", stamped[33:37])
    assert stamped[37:41] == b"tEXt" and length == len(b"catalog-source-sha256\0" + b"b" * 64)


def test_redraw_without_graphviz_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    dot, png = tmp_path / "a.dot", tmp_path / "a.png"
    with pytest.raises(CatalogError, match="Graphviz is not installed"):
        redraw(dot, png, source="digraph a {}\n")
    assert not dot.exists() and not png.exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz draws the picture")
def test_redraw_draws_a_png_that_carries_its_source(tmp_path: Path) -> None:
    dot, png = tmp_path / "a.dot", tmp_path / "a.png"
    assert redraw(dot, png, source="digraph a { x -> y }\n") == [str(dot), str(png)]
    assert embedded_hash(png.read_bytes()) == source_hash("digraph a { x -> y }\n")
    assert redraw(dot, png, source="digraph a { x -> y }\n") == []
