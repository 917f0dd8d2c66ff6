"""Headline numbers beside the previous period's, with the change between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from insights.figures import Cell, Figure


@dataclass(frozen=True)
class Comparison:
    figure: str
    label: str
    current: Cell
    previous: Cell

    @property
    def change(self) -> int | float | None:
        """Current minus previous; None when either is suppressed (a change must not reveal a small cell)."""
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def change_percent(self) -> float | None:
        change = self.change
        if change is None or not self.previous:
            return None
        return 100 * change / self.previous


def comparisons(figures: Sequence[Figure], previous_figures: Sequence[Figure]) -> list[Comparison]:
    """Each figure's summary numbers, matched by figure and label to the previous period's.

    A number that several figures repeat (the same label and values, such as the
    contacts behind both the age and the topic charts) is listed once, under the first.
    """
    before = {(figure.key, label): value for figure in previous_figures for label, value in figure.summary}
    found: list[Comparison] = []
    seen: set[tuple[str, Cell, Cell]] = set()
    for figure in figures:
        for label, value in figure.summary:
            previous = before.get((figure.key, label))
            if (label, value, previous) in seen:
                continue
            seen.add((label, value, previous))
            found.append(Comparison(figure=figure.title, label=label, current=value, previous=previous))
    return found
