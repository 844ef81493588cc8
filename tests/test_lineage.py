"""Stable group ids and lineage across runs (pure functions)."""

from __future__ import annotations

from analytics.lineage import assign_ids, fresh_id


def _prev(**groups: list[str]) -> dict[str, frozenset[str]]:
    return {gid: frozenset(members) for gid, members in groups.items()}


def test_same_members_keep_their_id_and_new_ids_depend_only_on_members() -> None:
    previous = _prev(G1=["a", "b", "c"])
    [same, new] = assign_ids([["a", "b", "c"], ["x", "y"]], previous, 0.5)
    assert (same.group_id, same.kind, same.parents) == ("G1", "unchanged", ("G1",))
    assert new.kind == "new" and new.parents == () and new.group_id == fresh_id(["y", "x"])


def test_mostly_the_same_membership_keeps_the_id() -> None:
    [grown] = assign_ids([["a", "b", "c", "d"]], _prev(G1=["a", "b", "c"]), 0.5)
    assert (grown.group_id, grown.kind) == ("G1", "continued")
    [shrunk] = assign_ids([["a", "b"]], _prev(G1=["a", "b", "c", "d", "e"]), 0.5)
    assert shrunk.group_id != "G1" and shrunk.kind == "new"  # Jaccard 0.4: a different group


def test_merge_and_split_are_recorded_with_parents() -> None:
    previous = _prev(G1=["a", "b", "c"], G2=["d", "e"])
    [merged] = assign_ids([["a", "b", "c", "d", "e"]], previous, 0.5)
    assert merged.kind == "merged" and merged.parents == ("G1", "G2")
    assert merged.group_id == "G1"  # the best overlap (3/5) keeps its id

    split = assign_ids(
        [["a", "b"], ["c", "d", "e", "f"]], _prev(G1=["a", "b", "c", "d", "e", "f"]), 0.5
    )
    assert {s.kind for s in split} == {"split"}
    assert all(s.parents == ("G1",) for s in split)
    ids = [s.group_id for s in split]
    assert len(set(ids)) == 2 and "G1" in ids  # one side keeps the id, never both


def test_ids_are_matched_one_to_one_best_first() -> None:
    previous = _prev(G1=["a", "b", "c", "d"], G2=["a", "b", "c", "x"])
    out = assign_ids([["a", "b", "c", "d"], ["a", "b", "c", "x", "y"]], previous, 0.5)
    assert [o.group_id for o in out] == ["G1", "G2"]
