"""Headline numbers beside the previous period's, with the change between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from insights.figures import Cell, Figure


@dataclass(frozen=True)
class Comparison:
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
    """Each figure's summary numbers, matched by figure and label to the previous period's."""
    before = {(figure.key, label): value for figure in previous_figures for label, value in figure.summary}
    return [
        Comparison(label=label, current=value, previous=before.get((figure.key, label)))
        for figure in figures
        for label, value in figure.summary
    ]
