"""All 109 histories of the Jepsen corpus, judged as its manifest says (Porcupine's test
data: etcd logs against the register, key-value histories key by key)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rabble_sim.checks import (
    KvModel,
    RegisterModel,
    check_linearizability,
    read_etcd,
    read_kv,
)

from .conftest import CORPUS
from .helpers import prefix

MANIFEST = CORPUS / "manifest.json"
ENTRIES: list[dict[str, Any]] = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else []
MODELS = {"etcd-register": (read_etcd, RegisterModel()), "kv": (read_kv, KvModel())}


def test_the_manifest_has_109_histories_27_linearizable(corpus: Path) -> None:
    assert len(ENTRIES) == 109
    assert sum(e["linearizable"] for e in ENTRIES) == 27


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_each_history_is_judged_as_the_manifest_says(entry: dict[str, Any], corpus: Path) -> None:
    read, model = MODELS[entry["model"]]
    history = read(corpus / entry["file"])
    result = check_linearizability(model, history)
    assert result.linearizable == entry["linearizable"]
    if result.linearizable:
        assert result.explanation is None
        return
    # The explanation holds: its prefix is linearizable, one event more is not.
    e = result.explanation
    assert e is not None
    assert e.stuck in e.involved and e.stuck.returned is not None
    assert 0 <= e.prefix < e.events == 2 * len(e.part) - sum(op.pending for op in e.part.operations)
    assert check_linearizability(model, prefix(e.part, e.prefix)).linearizable
    assert not check_linearizability(model, prefix(e.part, e.prefix + 1)).linearizable
    # Deterministic: the same history, the same explanation.
    assert check_linearizability(model, read(corpus / entry["file"])) == result


@pytest.mark.parametrize("name", ["c01-ok", "c01-bad"])
def test_partitioning_by_key_gives_the_same_answer_as_the_whole_map(
    name: str, corpus: Path
) -> None:
    history = read_kv(corpus / "kv" / f"{name}.txt")
    whole = check_linearizability(KvModel(), history, partition=False)
    by_key = check_linearizability(KvModel(), history)
    assert whole.linearizable == by_key.linearizable == name.endswith("ok")
