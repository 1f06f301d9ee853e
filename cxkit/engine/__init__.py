"""Reductions on a database engine (DuckDB over Parquet, Spark, a warehouse) through Ibis.

Every analysis is a *reduction* (the event log to small per-customer tables) and *statistics*
on those small tables. Here the reductions are written once as Ibis expressions, so that a
journey may live in DuckDB (Parquet or CSV files larger than memory) or any backend Ibis
supports; the reduced tables are pulled back as pandas and the statistics run as they do on
the pandas engine.

Nothing here imports Ibis until it is used: ``import cxkit`` stays light.

>>> import cxkit
>>> j = cxkit.read_journey(cxkit.sample_dir(), engine="duckdb")  # doctest: +SKIP
>>> cxkit.funnel(j, ["site_visit", "signup"])                     # doctest: +SKIP
"""

from __future__ import annotations

from .journey import EngineJourney, connect, is_engine, read_journey_engine

__all__ = ["EngineJourney", "connect", "is_engine", "read_journey_engine"]
