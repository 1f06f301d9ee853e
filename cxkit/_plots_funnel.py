"""Plots of the funnel analysis; re-exported by cxkit.plots."""

__all__ = []
