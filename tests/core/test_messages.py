"""``@message``: registering message types under stable tags, and the built-in messages."""

from __future__ import annotations

import attrs
import pytest

from rabble_sim import (
    CancelTimer,
    CorrelationId,
    Envelope,
    Persist,
    Pid,
    StartTimer,
    cancel_timer,
    executor_pid,
    message,
    persist,
    start_timer,
)
from rabble_sim.core import REGISTRY, InvalidDefinition
from tests.strategies import AppendEntries, Gossip


def test_tagged_form_registers_the_tag() -> None:
    assert REGISTRY.tag_of(AppendEntries) == "test.append_entries"
    assert REGISTRY.class_of("test.append_entries") is AppendEntries


def test_bare_form_registers_module_and_qualified_name() -> None:
    assert REGISTRY.tag_of(Gossip) == f"{Gossip.__module__}.Gossip"
    assert REGISTRY.class_of(f"{Gossip.__module__}.Gossip") is Gossip


def test_called_without_a_tag_is_the_bare_form() -> None:
    @message()
    @attrs.frozen
    class Ack:
        n: int

    assert REGISTRY.tag_of(Ack) == f"{__name__}.{Ack.__qualname__}"
    assert Ack(1) == Ack(1)  # the decorator returns the class itself


def test_rejects_a_class_that_is_not_frozen() -> None:
    with pytest.raises(InvalidDefinition, match=r"needs a frozen attrs class.*@attrs\.frozen"):

        @message("test.messages.mutable")
        @attrs.define
        class Mutable:
            n: int


def test_rejects_a_class_that_is_not_attrs() -> None:
    with pytest.raises(InvalidDefinition, match=r"Plain is not one: put @message above"):

        @message("test.messages.plain")
        class Plain:
            pass


def test_rejects_message_applied_below_attrs() -> None:
    with pytest.raises(InvalidDefinition, match=r"put @message above @attrs\.frozen"):

        @attrs.frozen
        @message("test.messages.upside_down")
        class UpsideDown:
            n: int


def test_rejects_a_tag_that_is_not_a_string() -> None:
    with pytest.raises(InvalidDefinition, match="takes a tag string, not 42"):
        message(42)  # type: ignore[call-overload]


def test_rejects_a_tag_used_by_another_class() -> None:
    @message("test.messages.vote")
    @attrs.frozen
    class RequestVote:
        term: int

    with pytest.raises(InvalidDefinition, match=r"'test\.messages\.vote' is used by both") as info:

        @message("test.messages.vote")
        @attrs.frozen
        class Vote:
            term: int

    assert "RequestVote" in str(info.value)
    assert "give one of them another tag" in str(info.value)
    assert REGISTRY.class_of("test.messages.vote") is RequestVote


def test_builtin_messages_have_stable_rabble_tags() -> None:
    assert REGISTRY.tag_of(StartTimer) == "rabble.start_timer"
    assert REGISTRY.tag_of(CancelTimer) == "rabble.cancel_timer"
    assert REGISTRY.tag_of(Persist) == "rabble.persist"


def test_helpers_address_the_senders_executor() -> None:
    pid = Pid("replica", "n2", "kv")
    cid = CorrelationId(pid, 3)
    assert executor_pid("n2") == Pid("executor", "n2", "rabble")
    assert start_timer(pid, 150, cid) == Envelope(executor_pid("n2"), pid, StartTimer(150), cid)
    assert cancel_timer(pid, cid) == Envelope(executor_pid("n2"), pid, CancelTimer(cid), cid)
    assert persist(pid, {"term": 4}) == Envelope(executor_pid("n2"), pid, Persist({"term": 4}))
