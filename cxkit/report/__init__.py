"""The report: execute the notebooks on a data folder, export self-contained HTML, and make
workshop copies (:mod:`.execute`, :mod:`.workshop`)."""

from .execute import (
    FINDING_MIME,
    ReportError,
    build_report,
    execute_notebook,
    export_html,
    notebooks_dir,
)

__all__ = [
    "build_report",
    "execute_notebook",
    "export_html",
    "ReportError",
    "notebooks_dir",
    "FINDING_MIME",
]
