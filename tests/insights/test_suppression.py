"""Small cells are hidden, and no hidden cell can be worked out from the shown totals."""

from hypothesis import given, settings
from hypothesis import strategies as st

from insights.figures import MIN_CELL
from insights.suppression import share, suppress, suppress_column, suppress_value


def test_cells_below_the_minimum_are_hidden_and_the_rest_shown():
    assert suppress([[12, 7], [9, 30]]) == [[12, 7], [9, 30]]
    assert suppress_value(4) is None
    assert suppress_value(MIN_CELL) == MIN_CELL


def test_a_lone_small_cell_takes_the_next_smallest_cell_of_its_row_with_it():
    # With row totals shown, 3 would be 31 - 20 - 8; hiding 8 as well leaves two unknowns.
    assert suppress([[3, 20, 8], [10, 30, 40]], column_totals=False) == [[None, 20, None], [10, 30, 40]]


def test_complementary_suppression_repeats_until_every_line_is_safe():
    # Row 0 hides 8 for the 3; column 0 then hides 10, column 2 hides 9; that leaves row 1
    # and row 2 with one hidden cell each, so 30 and 12 go; column 1 is left with one: 15 goes.
    shown = suppress([[3, 20, 8], [10, 30, 40], [12, 15, 9]])
    assert shown == [[None, 20, None], [None, None, 40], [None, None, None]]
    for line in [*shown, *zip(*shown, strict=True)]:
        assert sum(value is None for value in line) != 1


def test_a_single_column_with_its_total_shown_hides_a_second_cell():
    assert suppress_column([40, 2, 17, 9]) == [40, None, 17, None]


def test_zero_counts_are_no_exception():
    assert suppress_column([0, 25]) == [None, None]


def test_shares_hide_small_parts_and_small_rests_but_not_all_or_nothing():
    assert share(5, 10) == 50.0
    assert share(3, 10) is None  # three contacts
    assert share(97, 100) is None  # the other three
    assert share(0, 40) == 0.0
    assert share(40, 40) == 100.0
    assert share(4, 4) is None  # too few altogether


matrices = st.integers(min_value=1, max_value=6).flatmap(
    lambda width: st.lists(
        st.lists(st.integers(min_value=0, max_value=40), min_size=width, max_size=width), min_size=1, max_size=6
    )
)


@settings(max_examples=300, deadline=None)
@given(matrices)
def test_no_hidden_cell_can_be_derived_from_one_row_or_column_total(matrix):
    shown = suppress(matrix)
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            if value < MIN_CELL:
                assert shown[r][c] is None, "every small cell is hidden"
            else:
                assert shown[r][c] in (value, None)
    lines = [*shown, *(list(column) for column in zip(*shown, strict=True))]
    for line in lines:
        # With the line's total known, exactly one hidden cell would be total - shown cells.
        # (A line of one cell has the cell as its total, shown only when the cell is.)
        if len(line) > 1:
            assert sum(value is None for value in line) != 1
