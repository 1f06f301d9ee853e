"""Plots of the experience analysis; re-exported by cxkit.plots."""

__all__ = []
