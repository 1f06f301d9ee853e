"""Plots of the churn analysis; re-exported by cxkit.plots."""

__all__ = []
