"""The least-recently-used memo that keeps plans' graphs and schedules between requests."""

from __future__ import annotations

import threading

from adapters.memo import LruMemo


def test_it_answers_what_was_put_and_nothing_else() -> None:
    memo = LruMemo(max_weight=10)
    memo.put(("plan", 1), "graph one", weight=3)
    assert memo.get(("plan", 1)) == "graph one"
    assert memo.get(("plan", 2)) is None


def test_the_total_weight_is_bounded_and_the_least_recently_used_goes_first() -> None:
    memo = LruMemo(max_weight=10)
    memo.put("a", "A", weight=4)
    memo.put("b", "B", weight=4)
    assert memo.get("a") == "A"  # now b is the least recently used
    memo.put("c", "C", weight=4)
    assert memo.get("b") is None
    assert memo.get("a") == "A"
    assert memo.get("c") == "C"


def test_an_entry_heavier_than_the_bound_is_not_kept_and_evicts_nothing() -> None:
    memo = LruMemo(max_weight=10)
    memo.put("small", 1, weight=5)
    memo.put("huge", 2, weight=11)
    assert memo.get("huge") is None
    assert memo.get("small") == 1


def test_putting_a_key_again_replaces_its_weight() -> None:
    memo = LruMemo(max_weight=10)
    memo.put("a", "old", weight=9)
    memo.put("a", "new", weight=2)
    memo.put("b", "B", weight=8)
    assert memo.get("a") == "new"
    assert memo.get("b") == "B"


def test_clear_forgets_everything() -> None:
    memo = LruMemo(max_weight=10)
    memo.put("a", 1)
    memo.clear()
    assert memo.get("a") is None
    assert len(memo) == 0


def test_threads_sharing_it_keep_the_bound() -> None:
    memo = LruMemo(max_weight=50)

    def work(offset: int) -> None:
        for i in range(2000):
            memo.put((offset, i % 97), i, weight=1 + i % 5)
            memo.get((offset, (i * 7) % 97))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(weight for _, weight in memo._entries.values()) <= 50
