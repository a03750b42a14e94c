"""adapters.sql.row_memo: one object per distinct row, and a bounded size."""

from __future__ import annotations

from adapters.sql.row_memo import RowMemo


def test_an_object_is_made_once_per_distinct_key() -> None:
    made: list[tuple[str, int]] = []

    def make(name: str, version: int) -> dict[str, object]:
        made.append((name, version))
        return {"name": name, "version": version}

    memo: RowMemo[dict[str, object]] = RowMemo(make)
    first = memo(("a", 1), "a", 1)
    assert memo(("a", 1), "a", 1) is first
    changed = memo(("a", 2), "a", 2)
    assert changed == {"name": "a", "version": 2}
    assert changed is not first
    assert made == [("a", 1), ("a", 2)]


def test_a_full_memo_starts_again() -> None:
    memo: RowMemo[str] = RowMemo(lambda value: f"made {value}", limit=3)
    for key in range(3):
        memo(key, key)
    assert len(memo) == 3
    assert memo(3, 3) == "made 3"
    assert len(memo) == 1
    assert memo(0, 0) == "made 0"


def test_a_key_that_cannot_be_hashed_is_made_every_time() -> None:
    memo: RowMemo[str] = RowMemo(lambda value: f"made {value}")
    assert memo((1, {"json": "column"}), 1) == "made 1"
    assert len(memo) == 0
