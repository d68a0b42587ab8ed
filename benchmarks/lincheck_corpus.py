"""The linearizability checker on the Jepsen corpus, against Porcupine's reference times.

Run from the repository root: ``python benchmarks/lincheck_corpus.py [--repeat 7]
[--corpus DIR]``. It reads the 109 histories of the corpus (``../shared/corpora/
jepsen-linearizability`` beside the checkout, or ``--corpus``), checks that each is judged
as the manifest says, then times the checks. Figures are medians over ``--repeat``
repetitions (each repetition checks every file once, in the manifest's order):

- ``etcd_decide_s``: the 103 non-empty etcd histories, deciding only
  (``explain=False``), as Porcupine's reference times do; ``etcd_explain_s``: the same,
  with the explanation of each history that is not linearizable (the longest prefix,
  found exactly: a second search);
- ``kv_decide_s`` and ``kv_explain_s``: the six key-value histories, key by key;
- ``max_file_s``: the slowest single file (deciding), and which it is;
- ``parse_s``: reading all the files (not included above).

Each is also printed as a ratio to Porcupine's figure from the corpus README (etcd: 0.34
to 0.46 s, the ratio taken to 0.40; kv with partitioning: about 0.2 s), which was measured
on the same kind of machine. One JSON object a line, then a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rabble_sim.checks import (
    History,
    KvModel,
    RegisterModel,
    check_linearizability,
    read_etcd,
    read_kv,
)

PORCUPINE_ETCD_S = (0.34, 0.46)
PORCUPINE_KV_S = 0.2
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/corpora/jepsen-linearizability"
MODELS: dict[str, Any] = {"etcd-register": RegisterModel(), "kv": KvModel()}


def load(corpus: Path) -> tuple[list[tuple[str, str, bool, History]], float]:
    """Every history of the manifest: (file, model, expected answer, history); and the
    seconds it took to read them."""
    entries = json.loads((corpus / "manifest.json").read_text())
    started = time.perf_counter()
    histories = []
    for e in entries:
        read = read_etcd if e["model"] == "etcd-register" else read_kv
        histories.append((e["file"], e["model"], e["linearizable"], read(corpus / e["file"])))
    return histories, time.perf_counter() - started


def one_pass(histories: list[tuple[str, str, bool, History]], explain: bool) -> dict[str, Any]:
    """Check every history once: seconds per model, per file, and wrong answers."""
    totals = {"etcd-register": 0.0, "kv": 0.0}
    per_file: dict[str, float] = {}
    wrong = []
    for name, model, expected, history in histories:
        started = time.perf_counter()
        result = check_linearizability(MODELS[model], history, explain=explain)
        seconds = time.perf_counter() - started
        totals[model] += seconds
        per_file[name] = seconds
        if result.linearizable != expected or (explain and not expected) != bool(
            result.explanation
        ):
            wrong.append(name)
    return {"totals": totals, "per_file": per_file, "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    histories, parse_s = load(args.corpus)
    etcd = [h for h in histories if h[1] == "etcd-register" and h[3].operations]
    decided, explained = [], []
    for _ in range(args.repeat):  # alternate, so that drift on a shared machine hits both
        decided.append(one_pass(histories, explain=False))
        explained.append(one_pass(histories, explain=True))
    wrong = sorted({w for p in decided + explained for w in p["wrong"]})

    def median(passes: list[dict[str, Any]], model: str) -> float:
        return float(statistics.median(p["totals"][model] for p in passes))

    slowest = {
        name: statistics.median(p["per_file"][name] for p in decided) for name, *_ in histories
    }
    worst = max(slowest, key=lambda name: slowest[name])
    etcd_decide, etcd_explain = median(decided, "etcd-register"), median(explained, "etcd-register")
    kv_decide, kv_explain = median(decided, "kv"), median(explained, "kv")
    reference = sum(PORCUPINE_ETCD_S) / 2
    figures = [
        {"figure": "histories", "files": len(histories), "etcd_non_empty": len(etcd),
         "judged_as_manifest": not wrong, "wrong": wrong, "repeat": args.repeat},
        {"figure": "etcd_decide_s", "seconds": round(etcd_decide, 3),
         "porcupine_s": list(PORCUPINE_ETCD_S), "ratio": round(etcd_decide / reference, 2),
         "ratio_range": [round(etcd_decide / PORCUPINE_ETCD_S[1], 2),
                         round(etcd_decide / PORCUPINE_ETCD_S[0], 2)]},
        {"figure": "etcd_explain_s", "seconds": round(etcd_explain, 3),
         "ratio": round(etcd_explain / reference, 2)},
        {"figure": "kv_decide_s", "seconds": round(kv_decide, 3),
         "porcupine_s": PORCUPINE_KV_S, "ratio": round(kv_decide / PORCUPINE_KV_S, 2)},
        {"figure": "kv_explain_s", "seconds": round(kv_explain, 3),
         "ratio": round(kv_explain / PORCUPINE_KV_S, 2)},
        {"figure": "max_file_s", "seconds": round(slowest[worst], 3), "file": worst},
        {"figure": "parse_s", "seconds": round(parse_s, 3)},
    ]  # fmt: skip
    for figure in figures:
        print(json.dumps(figure))
    print()
    print(f"{'figure':<34}{'seconds':>9}{'Porcupine':>12}{'ratio':>8}")
    rows = [
        (f"etcd, {len(etcd)} histories, decide", etcd_decide, "0.34-0.46", etcd_decide / reference),
        ("etcd, with explanations", etcd_explain, "", etcd_explain / reference),
        ("kv, 6 histories by key, decide", kv_decide, "0.2", kv_decide / PORCUPINE_KV_S),
        ("kv, with explanations", kv_explain, "", kv_explain / PORCUPINE_KV_S),
    ]
    for label, seconds, porcupine, ratio in rows:
        print(f"{label:<34}{seconds:>9.3f}{porcupine:>12}{ratio:>8.2f}")
    print(f"slowest file: {worst} ({slowest[worst]:.3f} s); reading all: {parse_s:.3f} s")
    print("every history judged as the manifest says" if not wrong else f"WRONG: {wrong}")


if __name__ == "__main__":
    main()
