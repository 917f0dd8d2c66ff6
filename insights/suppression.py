"""Small-cell suppression: no shown number stands for fewer than ``MIN_CELL`` contacts.

Primary suppression hides every cell below ``MIN_CELL``. Complementary
suppression then makes sure a hidden cell cannot be worked out from the shown
totals: in every row (and column) whose total is shown, a lone hidden cell
takes the smallest shown cell of that row (or column) with it. Hiding one cell
can leave another line with a lone hidden cell, so this repeats until nothing
changes. Afterwards each line of two or more cells hides either none or at
least two of them. (A line of one cell has that cell as its total: show the
total only where the cell is shown.)
"""

from __future__ import annotations

from collections.abc import Sequence

from insights.figures import MIN_CELL, Cell


def suppress_value(value: int | None) -> int | None:
    """A single count (a total, a headline number): None below ``MIN_CELL``."""
    if value is None or value < MIN_CELL:
        return None
    return value


def suppressed_cells(
    matrix: Sequence[Sequence[int]], *, row_totals: bool = True, column_totals: bool = True
) -> set[tuple[int, int]]:
    """The (row, column) positions to hide in ``matrix`` of counts."""
    hidden = {(r, c) for r, row in enumerate(matrix) for c, value in enumerate(row) if value < MIN_CELL}
    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        lines += [[(r, c) for c in range(len(row))] for r, row in enumerate(matrix)]
    if column_totals and matrix:
        width = max(len(row) for row in matrix)
        lines += [[(r, c) for r in range(len(matrix)) if c < len(matrix[r])] for c in range(width)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            lone = [cell for cell in line if cell in hidden]
            if len(lone) != 1:
                continue
            shown = [cell for cell in line if cell not in hidden]
            if not shown:
                continue
            # The next-smallest shown cell; ties go to the first, so the result is stable.
            smallest = min(shown, key=lambda cell: (matrix[cell[0]][cell[1]], cell))
            hidden.add(smallest)
            changed = True
    return hidden


def suppress(
    matrix: Sequence[Sequence[int]], *, row_totals: bool = True, column_totals: bool = True
) -> list[list[Cell]]:
    """``matrix`` with every cell that must not be shown replaced by None."""
    hidden = suppressed_cells(matrix, row_totals=row_totals, column_totals=column_totals)
    return [[None if (r, c) in hidden else value for c, value in enumerate(row)] for r, row in enumerate(matrix)]


def suppress_column(values: Sequence[int]) -> list[Cell]:
    """One column of counts whose total is shown."""
    return [row[0] for row in suppress([[value] for value in values], row_totals=False)]


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent (one decimal), or None when it would give away a small count.

    Shown only when ``whole`` stands for at least ``MIN_CELL`` contacts and
    neither ``part`` nor the rest (``whole - part``) is a small count other than
    zero: 0 % and 100 % say nothing about anyone, 97 % of 100 would say "3".
    """
    rest = whole - part
    if whole < MIN_CELL or 0 < part < MIN_CELL or 0 < rest < MIN_CELL:
        return None
    return round(100 * part / whole, 1)
