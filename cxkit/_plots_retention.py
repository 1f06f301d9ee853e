"""Plots of the retention analysis; re-exported by cxkit.plots."""

__all__ = []
