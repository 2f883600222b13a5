"""The knowledge search selects candidates in rounds: the rarest concepts while their matches
fit the budget (always at least one), then rounds four times as large, each only run when the
rounds before gave fewer sections than asked for."""

from __future__ import annotations

from support_mcp.store.knowledge import candidate_rounds


def test_rarest_first_within_the_budget_then_growing_rounds() -> None:
    matches = {0: 10.0, 1: 400.0, 2: 1000.0, 3: 3000.0, 4: 5000.0, 5: 40000.0}
    # 10 + 400 + 1000 fit 1,500; 3,000 fits 6,000 but 3,000 + 5,000 does not; 5,000 fits 24,000
    assert candidate_rounds([0, 1, 2, 3, 4, 5], matches, 1500) == [[0, 1, 2], [3], [4], [5]]


def test_a_concept_larger_than_the_budget_still_forms_a_round() -> None:
    assert candidate_rounds([7], {7: 9000.0}, 1500) == [[7]]
    assert candidate_rounds([], {}, 1500) == []


def test_everything_fits_one_round_in_a_small_index() -> None:
    matches = {n: 20.0 for n in range(6)}
    assert candidate_rounds(list(range(6)), matches, 1500) == [list(range(6))]
