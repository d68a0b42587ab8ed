"""Reading Jepsen histories: etcd register logs and key-value EDN lines.

Both give a ``History`` whose times are the file's line numbers, so that an explanation
can point at lines. Anything malformed is a ``UsageError`` naming the file and line.

Jepsen's completion types: ``:ok`` the operation happened, with this result; ``:fail``
it did not happen (except where the register gives it a meaning: a failed
compare-and-swap happened and says the value differed; a failed read that timed out
says nothing); ``:info`` nobody knows, so the operation stays pending to the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core import UsageError, read_input_text
from ._history import UNKNOWN, History, Operation

_ETCD_LINE = re.compile(r"INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(\w+)\s+:([\w-]+)(?:\s+(.*?))?\s*")
_NEMESIS_LINE = re.compile(r"INFO\s+jepsen\.util\s+-\s+:nemesis\s.*")
_ETCD_VALUE = re.compile(r"nil|-?\d+|:[\w-]+|\[\s*(nil|-?\d+)[\s,]+(nil|-?\d+)\s*\]")
_EDN_TOKEN = re.compile(
    r"""[\s,]*(?:(\{)|(\})|("(?:[^"\\]|\\.)*")|(:[\w.*+!?<>=/-]+)|(-?\d+)(?![\w.])"""
    r"""|(nil|true|false)(?![\w.]))"""
)


def read_text(path: Path) -> str:
    """The text of the history at ``path``, or a ``UsageError`` saying why it cannot be
    read (not a regular file, larger than the input limit, not UTF-8...)."""
    return read_input_text(path, "history")


class _Builder:
    """Operations being read from a file; a process has one outstanding at a time."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.open: dict[Any, tuple[int, Any, int]] = {}  # process -> (slot, input, line)
        self.ops: list[Operation | None] = []  # None: did not happen (or still open)

    def error(self, line: int, reason: str) -> UsageError:
        return UsageError(f"{self.source}:{line}: {reason}")

    def invoke(self, process: Any, input: Any, line: int) -> None:
        if process in self.open:
            first = self.open[process][2]
            raise self.error(
                line,
                f"process {process} invokes an operation while the one it invoked at line "
                f"{first} is outstanding (a process runs one at a time)",
            )
        self.open[process] = (len(self.ops), input, line)
        self.ops.append(None)

    def finish(self, process: Any, f: str, line: int) -> tuple[int, Any, int]:
        """The operation ``process`` completes at ``line``: its slot, input and line."""
        if process not in self.open:
            raise self.error(line, f"process {process} completes :{f}, which it never invoked")
        slot, input, invoked = self.open.pop(process)
        if input[0] != f:
            raise self.error(
                line, f"process {process} completes :{f}, but invoked :{input[0]} at line {invoked}"
            )
        return slot, input, invoked

    def agrees(self, process: Any, f: str, same: Callable[[Any], bool], line: int) -> None:
        """A completion of ``:f`` that repeats what was invoked must repeat it exactly:
        ``same(input)`` for the outstanding operation (any other mismatch is ``finish``'s
        to report)."""
        if process in self.open:
            _, input, invoked = self.open[process]
            if input[0] == f and not same(input):
                raise self.error(
                    line,
                    f"process {process} completes :{f} with other arguments than it invoked "
                    f"at line {invoked} ({' '.join(map(repr, input[1:]))})",
                )

    def ok(self, process: Any, f: str, output: Any, line: int) -> None:
        """It happened, with ``output``."""
        slot, input, invoked = self.finish(process, f, line)
        self.ops[slot] = Operation(process, input, output, invoked, line)

    def failed(self, process: Any, f: str, line: int) -> None:
        """It did not happen."""
        self.finish(process, f, line)

    def info(self, process: Any, f: str, line: int) -> None:
        """Nobody knows whether it happened: it stays pending to the end."""
        slot, input, invoked = self.finish(process, f, line)
        self.ops[slot] = Operation(process, input, UNKNOWN, invoked, None)

    def history(self) -> History:
        ops = list(self.ops)
        for process, (slot, input, invoked) in self.open.items():
            ops[slot] = Operation(process, input, UNKNOWN, invoked, None)
        return History([op for op in ops if op is not None], self.source)


def parse_etcd(text: str, source: str = "<etcd log>") -> History:
    """A Jepsen etcd log (one register; model ``RegisterModel``).

    Lines look like ``INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]``: process, type,
    operation, value. ``:read`` completes ``:ok`` with the value read (``nil``: empty) or
    ``:fail`` with ``:timed-out`` (a completed read that constrains nothing);
    ``:write V`` completes ``:ok``; ``:cas [FROM TO]`` completes ``:ok`` (it swapped)
    or ``:fail`` (the value was not FROM). ``:info`` lines leave the operation pending.
    Blank lines are skipped; any other line is an error.
    """
    b = _Builder(source)
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        if _NEMESIS_LINE.fullmatch(raw):
            continue  # the fault injector's own log: not a client's operation
        match = _ETCD_LINE.fullmatch(raw)
        if match is None:
            raise b.error(
                n,
                "not a line of a Jepsen etcd log (expected 'INFO  jepsen.util - PROCESS "
                f"\t:TYPE\t:OPERATION\tVALUE'): {_clip(raw)}",
            )
        process, kind, f, text_value = int(match[1]), match[2], match[3], match[4] or ""
        value = _etcd_value(b, n, text_value)
        if f not in ("read", "write", "cas"):
            raise b.error(n, f"unknown operation :{f} (expected :read, :write or :cas)")
        if kind in ("ok", "fail") and f != "read":  # they repeat the value written
            echoed = _etcd_input(b, n, f, value)
            b.agrees(process, f, echoed.__eq__, n)
        if kind == "invoke":
            b.invoke(process, _etcd_input(b, n, f, value), n)
        elif kind == "ok":
            if f == "read" and not (value is None or isinstance(value, int)):
                raise b.error(n, f"a read returns nil or a number, not {text_value!r}")
            b.ok(process, f, value if f == "read" else True if f == "cas" else None, n)
        elif kind == "fail":
            if f == "read":
                b.ok(process, f, UNKNOWN, n)
            elif f == "cas":
                b.ok(process, f, False, n)
            else:
                b.failed(process, f, n)
        elif kind == "info":
            b.info(process, f, n)
        else:
            raise b.error(n, f"unknown type :{kind} (expected :invoke, :ok, :fail or :info)")
    return b.history()


def _etcd_value(b: _Builder, n: int, text: str) -> Any:
    if not text:
        return None
    if _ETCD_VALUE.fullmatch(text) is None:
        raise b.error(n, f"cannot read the value {_clip(text)!r} (nil, a number, :name or [A B])")
    if text == "nil":
        return None
    if text[0] == ":":
        return text
    if text[0] == "[":
        pair = _ETCD_VALUE.fullmatch(text)
        assert pair is not None
        return tuple(None if x == "nil" else int(x) for x in (pair[1], pair[2]))
    return int(text)


def _etcd_input(b: _Builder, n: int, f: str, value: Any) -> tuple[Any, ...]:
    if f == "read":
        return ("read",)
    if f == "write":
        if not isinstance(value, int):
            raise b.error(n, f"a write takes a number, not {value!r}")
        return ("write", value)
    if not isinstance(value, tuple):
        raise b.error(n, f"a cas takes [FROM TO], not {value!r}")
    return ("cas", *value)


def parse_kv(text: str, source: str = "<kv history>") -> History:
    """Key-value histories, one EDN map a line (model ``KvModel``).

    ``{:process 2, :type :invoke, :f :append, :key "1", :value "x 2 0 y"}``: ``:f`` is
    ``:get`` (its ``:ok`` carries the value read), ``:put`` or ``:append``. An
    invocation without ``:ok`` is pending to the end; ``:fail`` means it did not happen.
    Blank lines are skipped.
    """
    b = _Builder(source)
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        fields = _edn_map(b, n, raw)
        for name in (":process", ":type", ":f", ":key"):
            if name not in fields:
                raise b.error(n, f"no {name} in {_clip(raw)}")
        process, kind, f, key = fields[":process"], fields[":type"], fields[":f"], fields[":key"]
        value = fields.get(":value")
        f = f[1:] if isinstance(f, str) and f.startswith(":") else f
        if f not in ("get", "put", "append"):
            raise b.error(n, f"unknown :f {f!r} (expected :get, :put or :append)")
        if kind != ":invoke":
            b.agrees(process, f, _key_is(key), n)
        if kind == ":invoke":
            if f != "get" and not isinstance(value, str):
                raise b.error(n, f":{f} takes a string :value, not {value!r}")
            b.invoke(process, ("get", key) if f == "get" else (f, key, value), n)
        elif kind == ":ok":
            if f == "get" and not isinstance(value, str):
                raise b.error(n, f"a :get returns a string :value, not {value!r}")
            b.ok(process, f, value if f == "get" else None, n)
        elif kind == ":fail":
            b.failed(process, f, n)
        elif kind == ":info":
            b.info(process, f, n)
        else:
            raise b.error(n, f"unknown :type {kind!r} (expected :invoke, :ok, :fail or :info)")
    return b.history()


def _key_is(key: Any) -> Callable[[Any], bool]:
    return lambda input: input[1] == key


def _edn_map(b: _Builder, n: int, raw: str) -> dict[str, Any]:
    """A flat EDN map of keywords to strings, keywords, integers, nil and booleans."""
    tokens = []
    at, end = 0, len(raw.rstrip())
    while at < end:
        match = _EDN_TOKEN.match(raw, at)
        if match is None:
            raise b.error(n, f"cannot read EDN at column {at + 1}: {_clip(raw[at:])}")
        tokens.append(match)
        at = match.end()
    if len(tokens) < 2 or tokens[0][1] is None or tokens[-1][2] is None:
        raise b.error(n, f"expected one EDN map {{:key value, ...}}: {_clip(raw)}")
    fields: dict[str, Any] = {}
    inner = tokens[1:-1]
    if any(t[1] or t[2] for t in inner):
        raise b.error(n, f"expected one flat EDN map, without maps inside: {_clip(raw)}")
    if len(inner) % 2:
        raise b.error(n, f"an EDN map needs a value for each key: {_clip(raw)}")
    for k, v in zip(inner[::2], inner[1::2], strict=True):
        if k[4] is None:
            raise b.error(n, f"EDN map keys must be keywords, not {k[0].strip(' ,')}")
        fields[k[4]] = _edn_scalar(b, n, v)
    return fields


def _edn_scalar(b: _Builder, n: int, token: re.Match[str]) -> Any:
    if token[3] is not None:
        try:
            return json.loads(token[3])
        except ValueError:
            raise b.error(n, f"cannot read the string {token[3]}") from None
    if token[4] is not None:
        return token[4]
    if token[5] is not None:
        return int(token[5])
    return {"nil": None, "true": True, "false": False}[token[6]]


def _clip(text: str, width: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 3] + "..."


def read_etcd(path: Path) -> History:
    """``parse_etcd`` of a file."""
    return parse_etcd(read_text(path), str(path))


def read_kv(path: Path) -> History:
    """``parse_kv`` of a file."""
    return parse_kv(read_text(path), str(path))
