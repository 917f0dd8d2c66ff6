"""Placeholder until the aggregation branch (insights-data) lands: the figures each page shows."""

from insights.figures import Figure, Period


def support_figures(period: Period) -> list[Figure]:
    return []


def hotline_figures(period: Period) -> list[Figure]:
    return []


def prevention_figures(period: Period) -> list[Figure]:
    return []
