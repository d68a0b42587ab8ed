"""The pool of deliverable messages: index 0 is the oldest, and every message has one index."""

from __future__ import annotations

from hypothesis import given, strategies as st

from rabble_sim.sim._pool import Pool

ops = st.lists(st.tuples(st.sampled_from(["add", "pop", "readd"]), st.integers(0, 10**6)))


def check(pool: Pool[str], model: dict[int, str]) -> None:
    assert len(pool) == len(model)
    assert list(pool) == sorted(model)
    if model:
        assert pool.at(0) == min(model)
        assert pool.oldest() == min(model)
    indexed = [pool.at(i) for i in range(len(pool))]
    assert sorted(indexed) == sorted(model), "every message has exactly one index"
    for seq, item in model.items():
        assert seq in pool
        assert pool.get(seq) == item


@given(ops)
def test_pool_behaves_like_a_dict_ordered_by_seq(steps: list[tuple[str, int]]) -> None:
    pool: Pool[str] = Pool()
    model: dict[int, str] = {}
    gone: list[int] = []
    next_seq = 0
    for op, k in steps:
        if op == "add":
            pool.add(next_seq, f"m{next_seq}")
            model[next_seq] = f"m{next_seq}"
            next_seq += 1
        elif op == "pop" and model:
            seq = pool.at(k % len(pool))
            assert pool.pop(seq) == model.pop(seq)
            assert seq not in pool
            assert pool.get(seq) is None
            gone.append(seq)
        elif op == "readd" and gone:  # what a heal does with a blocked message
            seq = gone.pop(k % len(gone))
            pool.add(seq, f"m{seq}")
            model[seq] = f"m{seq}"
        check(pool, model)


def test_oldest_stays_right_through_many_adds_and_removals() -> None:
    pool: Pool[int] = Pool()
    model: dict[int, int] = {}
    for seq in range(2000):
        pool.add(seq, seq)
        model[seq] = seq
        if seq % 3 == 2:
            # Remove the newest and one from the middle, keeping old ones around.
            for victim in (seq, sorted(model)[len(model) // 2]):
                pool.pop(victim)
                del model[victim]
    check(pool, model)
    while model:
        oldest = pool.at(0)
        assert oldest == min(model)
        pool.pop(oldest)
        del model[oldest]
    assert len(pool) == 0
