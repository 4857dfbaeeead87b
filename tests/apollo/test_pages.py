"""Page planning: an overlapping page always starts at or before the staged position, reads past it, and stays
within Apollo's display limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from halosync_apollo.pages import plan_page

LIMIT = 50_000


@given(expected=st.integers(-1, LIMIT), per_page=st.integers(10, 100))
def test_a_planned_page_overlaps_the_position_and_reads_past_it(expected: int, per_page: int) -> None:
    plan = plan_page(expected, per_page, LIMIT)

    if plan is None:  # only right at the limit: no page both includes the position and goes past it
        assert expected >= LIMIT - per_page
        return
    page, size = plan
    start, end = (page - 1) * size, page * size - 1
    assert per_page // 2 <= size <= per_page and page * size <= LIMIT
    assert start <= max(expected, 0) and end > expected


def test_far_from_the_limit_a_page_reads_most_of_a_page_of_new_contacts() -> None:
    read, expected, requests = 0, -1, 0
    while expected < 20_000:
        plan = plan_page(expected, 100, LIMIT)
        assert plan is not None
        page, size = plan
        read, expected, requests = read + page * size - 1 - expected, page * size - 1, requests + 1
    assert requests * 1_000 / read < 11.6  # overlapping costs about a tenth more requests
