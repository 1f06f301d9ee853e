"""Execute the notebooks on a data folder and export self-contained HTML reports.

Each notebook in ``notebooks/`` (``NN_name.ipynb``) runs with ``data_dir`` injected after its
cell tagged ``parameters``, on the kit's own Python (never whatever ``python3`` kernel is on the
Jupyter path), and is exported to one HTML file that works offline and on its own: images are
embedded, no script, style or font is fetched, code is hidden unless ``show_code``. ``index.html``
links them with each notebook's headline findings and the sections its data does not cover; a
notebook that failed shows only its error there. ``findings.json`` keeps every finding handed
over. :func:`visible_text` and :func:`reader_problems` check what a reader of a page would see.

Examples
--------
>>> import cxkit
>>> paths = cxkit.build_report(out="reports", only=["00"])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .. import i18n
from ..data import DataError, sample_dir

__all__ = [
    "build_report",
    "execute_notebook",
    "export_html",
    "ReportError",
    "notebooks_dir",
    "visible_text",
    "reader_problems",
]

FINDING_MIME = "application/vnd.cxkit.finding+json"
_TEMPLATES = Path(__file__).with_name("templates")


class ReportError(RuntimeError):
    """One or more notebooks failed; the message names each notebook and failing cell."""


@dataclass
class NotebookRun:
    """What happened to one notebook."""

    name: str
    path: Path
    html: Path | None = None
    seconds: float = 0.0
    error: str | None = None
    title: str = ""
    findings: list = field(default_factory=list)


def notebooks_dir():
    """The repository's ``notebooks/`` folder."""
    return Path(__file__).resolve().parents[2] / "notebooks"


def _kernel_manager(lang="en"):
    """A KernelManager whose only kernel is this Python (``sys.executable``), writing in
    ``lang`` (``CXKIT_LANG``, see :mod:`cxkit.i18n`).

    Asynchronous, as nbclient expects: with a blocking client, waiting for output blocks the
    loop that notices a cell's timeout or a kernel that died."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class OwnPythonSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="cxkit",
                language="python",
                resource_dir=str(_TEMPLATES),
                env={
                    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                    # the same input gives the same report: no set of names in another order
                    "PYTHONHASHSEED": "0",
                    "CXKIT_LANG": lang,
                    **_missing_log(),
                },
            )

        def find_kernel_specs(self):
            return {"python3": str(_TEMPLATES)}

    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=OwnPythonSpecs())


def _missing_log():
    """Texts with no translation are appended to ``CXKIT_MISSING_LOG`` when it is set."""
    import os

    path = os.environ.get("CXKIT_MISSING_LOG")
    return {"CXKIT_MISSING_LOG": path} if path else {}


def translate_markdown(nb, lang):
    """Swap each markdown cell's text for its version in ``lang`` (the catalog is keyed by
    the English cell); a cell without one stays English. Returns ``nb``."""
    if lang == "en":
        return nb
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            cell.source = i18n.translate(cell.source, lang)
    return nb


def _inject_parameters(nb, parameters):
    """Insert a cell tagged ``injected-parameters`` after the one tagged ``parameters``."""
    import nbformat

    source = "# parameters injected by cxkit report\n" + "\n".join(
        f"{k} = {v!r}" for k, v in parameters.items()
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    at = next(
        (
            i + 1
            for i, c in enumerate(nb.cells)
            if "parameters" in c.get("metadata", {}).get("tags", [])
        ),
        0,
    )
    nb.cells.insert(at, cell)
    return nb


def _stored_number(nb, index):
    """The 1-based number of cell ``index`` of the executed notebook in the stored notebook
    (the injected parameters cell is not counted)."""
    injected = sum(
        "injected-parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells[:index]
    )
    return index + 1 - injected


def _first_line(cell):
    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
    return first.strip()[:60]


def _error_of(nb):
    """(cell number in the stored notebook, one-line error) of the first failing cell."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                where = _stored_number(nb, i)
                text = f"{out.get('ename')}: {out.get('evalue')} (in `{_first_line(cell)}`)"
                return where, text
    return None, None


def execute_notebook(path, parameters=None, *, timeout=600, skip_tags=(), lang="en"):
    """Execute a notebook on the kit's Python; returns ``(notebook, error_or_None)``.

    On failure the executed notebook, with the traceback in the failing cell, is still returned
    so that it can be rendered; the error names the notebook, the cell and the reason — an
    exception, a cell running longer than ``timeout`` seconds, or a kernel that died.

    Parameters
    ----------
    path : str or Path
        The notebook.
    parameters : dict, optional
        Values injected after the cell tagged ``parameters``.
    timeout : float
        Seconds one cell may run before the notebook fails.
    skip_tags : sequence of str
        Code cells with one of these tags are not run (they stay in place, empty, so that cell
        numbers do not move).
    lang : {"en", "es"}
        The language of the prose, findings and figures (:mod:`cxkit.i18n`).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    translate_markdown(nb, i18n._check(lang))
    _inject_parameters(nb, parameters or {})
    for cell in nb.cells:
        if cell.cell_type == "code" and set(cell.get("metadata", {}).get("tags", [])) & set(
            skip_tags
        ):
            cell.source = ""
    running = {"index": None}

    def on_cell_start(cell, cell_index, **_):
        running["index"] = cell_index

    client = NotebookClient(
        nb,
        km=_kernel_manager(lang),
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
    )
    client.owns_km = True  # shut the kernel down after this notebook, whatever happened
    # the kernel's own stderr (start-up chatter) goes to a file, shown only if the kernel dies
    with tempfile.TemporaryFile(mode="w+") as kernel_log:
        try:
            client.execute(stderr=kernel_log)
        except CellExecutionError as exc:
            cell, err = _error_of(nb)
            where = f"cell {cell}" if cell else "a cell"
            return nb, f"{path.name}, {where}: {err or str(exc).splitlines()[-1]}"
        except Exception as exc:  # kernel died, timeout …
            where = ""
            if running["index"] is not None:
                i = running["index"]
                where = f", cell {_stored_number(nb, i)} (in `{_first_line(nb.cells[i])}`)"
            if isinstance(exc, CellTimeoutError):
                return nb, f"{path.name}{where}: the cell ran longer than {timeout:g} s"
            kernel_log.seek(0)
            lines = [
                ln for ln in kernel_log.readlines() if "WARNING | Kernel is running" not in ln
            ]
            tail = "".join(lines[-5:])
            reason = "the kernel died" if isinstance(exc, DeadKernelError) else "stopped"
            return (
                nb,
                f"{path.name}{where}: {reason}: {type(exc).__name__}: {exc}\n{tail}".rstrip(),
            )
    return nb, None


def _strip_for_readers(nb, show_code):
    """Remove what a stakeholder should not see: parameter cells, stderr (warnings), and — when
    code is hidden — code cells that show nothing."""
    keep = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"parameters", "injected-parameters", "remove-cell"}:
            continue
        if not show_code and tags & {"solution", "workshop"}:  # exercises: for the workshop
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and not (
                    o.get("output_type") == "display_data"
                    and set(o.get("data", {})) == {FINDING_MIME}
                )
            ]
            if "remove-input" in tags:
                cell.source = ""
            if not show_code and not cell.outputs:
                continue
        keep.append(cell)
    nb.cells = keep
    return nb


def export_html(nb, out_path, *, show_code=False, title=None, footer="", glossary=None, lang="en"):
    """Write one self-contained HTML file for an executed notebook.

    ``glossary``: the survey kinds of the data (e.g. ``{"nps"}``) to link the first use of
    each glossary term to its definition on ``index.html``; None links nothing. ``lang``: the
    page's language (its ``<html lang>``, the navigation, the glossary's terms)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="cxkit_html",
        extra_template_basedirs=[str(_TEMPLATES)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=lang,
    )
    nb = _strip_for_readers(nb, show_code)
    resources = {
        "metadata": {"name": title or Path(out_path).stem},
        "cxkit_footer": footer,
        "cxkit_back": i18n.translate("all reports", lang),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    if glossary is not None:
        from .glossary import link_terms

        body = link_terms(body, kinds=glossary, lang=lang)
    Path(out_path).write_text(body, encoding="utf-8")
    return Path(out_path)


def _title_of(nb, default):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def _finding_dict(raw):
    """A finding handed over by a notebook, in the format of :meth:`cxkit.story.Finding.to_dict`.

    The older ``cxkit.story.headline`` hands over only ``text`` and ``summary``: such a finding
    is a headline that applies."""
    raw = dict(raw) if isinstance(raw, dict) else {"text": str(raw)}
    return {
        "key": raw.get("key"),
        "text": str(raw.get("text", "")),
        "values": raw.get("values") or {},
        "applies": bool(raw.get("applies", True)),
        "headline": bool(raw.get("headline", "key" not in raw)),
        "summary": bool(raw.get("summary", False)),
        **{k: v for k, v in raw.items() if k not in _FINDING_KEYS},
    }


_FINDING_KEYS = ("key", "text", "values", "applies", "headline", "summary")


def _findings_of(nb):
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if FINDING_MIME in data:
                found.append(_finding_dict(data[FINDING_MIME]))
    return found


def build_report(
    data=None,
    out="reports",
    *,
    show_code=False,
    only=None,
    notebooks=None,
    progress=True,
    timeout=600,
    lang=None,
    jobs=None,
    engine="pandas",
):
    """Execute every notebook on ``data`` and write one HTML file each plus ``index.html``.

    Parameters
    ----------
    data : str or Path, optional
        Data folder (events, customers, surveys). Default: the bundled sample.
    out : str or Path
        Output folder (created).
    show_code : bool
        Include the code cells.
    only : list of str, optional
        Notebook names or number prefixes to run (``["01"]``, ``["02_retention_survival"]``).
    notebooks : str or Path, optional
        Folder of notebooks (default: the repository's ``notebooks/``).
    progress : bool
        Print one line per notebook.
    timeout : float
        Seconds one cell may run; a cell that runs longer fails its notebook (the others
        still run), as does a kernel that dies.
    lang : {"en", "es"}, optional
        The language of the whole report: prose, findings, figures, index and glossary
        (default: ``CXKIT_LANG``, else English). Numbers are written as in English.
    jobs : int, optional
        How many notebooks run at once, each in its own kernel (default: 2 on a machine with
        two cores or more, else 1). The notebooks do not depend on each other and the pages
        are the same whatever the number; more at once needs more memory (a notebook's
        kernel holds its own copy of the journey).
    engine : {"pandas", "duckdb"}
        Where the notebooks' journey lives (``cxkit.read_journey(data_dir, engine=engine)``):
        ``"duckdb"`` leaves the files on disk and reduces the events there, so a log larger
        than memory can be reported on; only reduced tables, the customers and the survey
        answers come back to pandas. Needs ``pip install 'cxkit[duckdb]'``.

    Returns
    -------
    list of Path
        The HTML files written, index first.

    Raises
    ------
    ReportError
        When a notebook fails; the others still run and every HTML is still written. The
        index shows a failed notebook's error instead of its findings.
    """
    lang = i18n._check(str(lang).lower()) if lang is not None else i18n.language()
    _check_engine(engine)
    data = Path(data) if data is not None else sample_dir()
    out = Path(out)
    _check_writable(out, create=False)
    nb_dir = Path(notebooks) if notebooks is not None else notebooks_dir()
    paths = sorted(p for p in nb_dir.glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = [str(o) for o in only]
        paths = [p for p in paths if any(p.stem == w or p.stem.startswith(w) for w in wanted)]
        if not paths:
            raise DataError(
                f"report(only={only!r})",
                [
                    {
                        "column": "only",
                        "expected": "names or number prefixes of notebooks in " + str(nb_dir),
                    }
                ],
            )
    if not paths:
        raise DataError(nb_dir, [{"column": None, "expected": "notebooks named NN_name.ipynb"}])
    from ..data import read_journey
    from ..data.cache import journey_cache

    # read once here; the notebooks' read_journey loads it from there (on an engine the
    # notebooks open the files themselves: opening is a few checks in SQL, nothing is loaded)
    with journey_cache():
        # fail early, with a DataError naming the file, on bad data
        journey = read_journey(data, engine=engine)
        _check_writable(out)
        tables = out / "tables"  # the notebooks' tables as CSV (cxkit.story.show_table)
        for stale in tables.glob("*.csv"):  # from an earlier report: not this data's
            stale.unlink()
        made = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        footer = i18n.translate(
            # the folder's name, not its path: a forwarded report shows no one's file system
            "Made by cxkit on {made} from the folder {folder} — {events} events, {customers} "
            "customers, {surveys} survey answers, observed at {observed}.",
            lang,
        ).format(**_facts(data, journey, made))
        runs = []
        # exercise solutions are not shown with the code hidden, and define nothing later
        # cells use: not running them saves a model fit (22 s at a million events)
        skip = () if show_code else ("solution", "workshop")
        kinds = _survey_kinds(journey)  # which survey terms the glossary links
        parameters = {
            "data_dir": str(data.resolve()),
            "exports_dir": str(tables.resolve()),
            "engine": engine,
        }

        def run_one(n, path):
            started = time.perf_counter()
            nb, error = execute_notebook(
                path, parameters, timeout=timeout, skip_tags=skip, lang=lang
            )
            run = NotebookRun(
                path.stem,
                path,
                seconds=time.perf_counter() - started,
                error=error,
                title=_title_of(nb, path.stem),
                findings=_findings_of(nb),
            )
            run.html = export_html(
                nb,
                out / f"{path.stem}.html",
                show_code=show_code,
                title=run.title,
                footer=footer,
                glossary=kinds,
                lang=lang,
            )
            if progress:
                took = f"{run.seconds:.1f} s"
                state = f"FAILED after {took}: {error}" if error else f"ok ({took})"
                print(f"[{n}/{len(paths)}] {path.stem} {state}", flush=True)
            return run

        jobs = _jobs(jobs, len(paths))
        if progress:
            at_once = f", {jobs} at a time" if jobs > 1 else ""
            print(f"Running {len(paths)} notebook(s) on {data.name}{at_once} …", flush=True)
        with _kernel_memory(engine, jobs):
            if jobs == 1:
                runs = [run_one(n, p) for n, p in enumerate(paths, 1)]
            else:  # threads suffice: each notebook's work happens in its own kernel process
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=jobs) as pool:
                    runs = list(pool.map(run_one, range(1, len(paths) + 1), paths))
    index = _write_index(runs, out, data, journey, made, lang)
    failed = [r for r in runs if r.error]
    if failed:
        raise ReportError(
            "notebook(s) failed:\n"
            + "\n".join(f"  {r.error}" for r in failed)
            + f"\nThe HTML files in {out} show each traceback."
        )
    return [index] + [r.html for r in runs]


ENGINES = ("pandas", "duckdb")

#: Share of the machine's memory the report's DuckDB kernels may use together: DuckDB's limit
#: bounds its buffers, and each kernel holds pulled-back tables and Python beside them
#: (measured: a 6 GB limit gave a 6.44 GiB process on the churn features at 100M events).
KERNEL_MEMORY_SHARE = 0.6


@contextlib.contextmanager
def _kernel_memory(engine, jobs):
    """On DuckDB, give each of the ``jobs`` kernels running at once its share of the memory
    (``CXKIT_DUCKDB_MEMORY_LIMIT``, which the kernels inherit), unless the user set it: DuckDB's
    default, 80% of the machine per connection, lets two kernels ask for 160%."""
    import os

    from ..engine.journey import MEMORY_LIMIT_ENV

    if engine != "duckdb" or os.environ.get(MEMORY_LIMIT_ENV):
        yield
        return
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    os.environ[MEMORY_LIMIT_ENV] = f"{int(KERNEL_MEMORY_SHARE * total / jobs / 2**20)}MiB"
    try:
        yield
    finally:
        os.environ.pop(MEMORY_LIMIT_ENV, None)


def _check_engine(engine):
    """A DataError for an engine the report does not know, or whose extra is not installed."""
    if engine not in ENGINES:
        raise DataError(
            f"report(engine={engine!r})",
            [{"column": "engine", "expected": f"one of {', '.join(ENGINES)}; got {engine!r}"}],
        )
    if engine == "duckdb":
        import importlib.util

        missing = [m for m in ("ibis", "duckdb") if importlib.util.find_spec(m) is None]
        if missing:
            raise DataError(
                "report(engine='duckdb')",
                [
                    {
                        "column": "engine",
                        "expected": "the duckdb extra (Ibis and DuckDB); not installed: "
                        + ", ".join(missing),
                    }
                ],
                hint="pip install 'cxkit[duckdb]', or run the report with --engine pandas",
            )


def _jobs(jobs, n):
    """How many notebooks to run at once: ``jobs``, else 2 where there are two cores."""
    import os

    if jobs is None:
        jobs = 2 if (os.cpu_count() or 1) >= 2 else 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise DataError(
            "report(jobs=...)",
            [{"column": "jobs", "expected": f"a whole number of at least 1; got {jobs!r}"}],
        )
    return max(1, min(jobs, n))


def _facts(data, journey, made):
    from ..engine.frames import counts

    n = counts(journey)  # on an engine, counted there
    return {
        "made": made,
        "folder": repr(Path(data).resolve().name),
        "events": f"{n['events']:,}",
        "customers": f"{n['customers']:,}",
        "surveys": f"{n['surveys']:,}",
        "observed": f"{journey.observed_at:%Y-%m-%d %H:%M}",
    }


def _check_writable(out, create=True):
    """Fail before running anything when the reports cannot be written to ``out`` (a file, a
    read-only folder); ``create`` makes the folder and tries to write in it."""
    if out.exists() and not out.is_dir():
        raise DataError(
            out,
            [{"column": None, "expected": "a folder for the reports; this is a file"}],
            hint="pass --out a new or existing folder",
        )
    if not create:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise DataError(
            out,
            [{"column": None, "expected": f"a folder the reports can be written to ({exc})"}],
            hint="pass --out a folder you can write to",
        ) from None


def _analysis(finding):
    return (finding["key"] or "").split(".", 1)[0]


def _is_overview(finding):
    return (finding["key"] or "").endswith(".overview")


def _covered_elsewhere(runs):
    """The analyses that a notebook of their own reported on (it ran, and its findings say so).

    Notebook 00 gives one ``<analysis>.overview`` finding per analysis; on the index, that
    finding gives way to the analysis's own notebook when it ran, so each thing is said once.
    """
    return {_analysis(f) for r in runs if not r.error for f in r.findings if not _is_overview(f)}


def _already_said(text, said):
    """True when the page has said ``text``, or a sentence it repeats ("Nothing to act on
    yet. <a reason said above>")."""
    return any(earlier in text for earlier in said)


def _unique(findings, said):
    """The findings whose text has not been said yet on the page (``said`` is updated)."""
    out = []
    for f in findings:
        if not _already_said(f["text"], said):
            said.add(f["text"])
            out.append(f)
    return out


def _one_per_need(missing):
    """The not-covered notes, each missing thing said once: the first note per ``needs`` tag,
    and none whose tag falls under a broader one present ("surveys.nps" under "surveys")."""
    tags = {f.get("needs") for f in missing} - {None}

    def broader_present(tag):
        parts = tag.split(".")
        return any(".".join(parts[:i]) in tags for i in range(1, len(parts)))

    seen, out = set(), []
    for f in missing:
        tag = f.get("needs")
        if tag and (tag in seen or broader_present(tag)):
            continue
        seen.add(tag)
        out.append(f)
    return out


def _notebook_section(run, covered, said, lang="en", in_short=()):
    """One notebook on the index, in one line: its error when it failed (none of its findings),
    else its lead headline — the first the page has not said yet (an overview only if its
    analysis has no report of its own), or a line pointing to "In short" when its headline is
    there (``in_short``: the summary's texts). Returns the section and the notebook's
    not-covered notes (shown once, together, at the end of the index)."""
    esc = html.escape
    link = f'<h2><a href="{esc(run.html.name)}">{esc(run.title)}</a></h2>'
    if run.error:
        reason = " ".join(run.error.split())  # a DataError's lines, on one line
        reason = reason if len(reason) <= 400 else reason[:399] + "…"
        section = (
            f'<section>{link}<p class="fail">{esc(i18n.translate("This notebook failed:", lang))} '
            f"{esc(reason)}</p></section>"
        )
        return section, []

    def own(f):
        return not (_is_overview(f) and _analysis(f) in covered)

    fresh = [f for f in run.findings if f["applies"] and f["headline"] and own(f)]
    lead = _unique([f for f in fresh if not _already_said(f["text"], said)][:1], said)
    missing = [f for f in run.findings if not f["applies"] and own(f)]
    if lead:
        body = f"<p>{esc(lead[0]['text'])}</p>"
    elif any(_already_said(f["text"], in_short) for f in fresh):  # headline in "In short"
        body = f"<p>{esc(i18n.translate(_SAID_ABOVE, lang))}</p>"
    else:
        body = ""
    return f"<section>{link}{body}</section>", missing


_SAID_ABOVE = "Its main result is under “In short” above; open the page for the details."


def _write_index(runs, out, data, journey, made, lang="en"):
    esc = html.escape

    def t(text):
        return esc(i18n.translate(text, lang))

    said = set()
    summary = _unique(
        [f for r in runs if not r.error for f in r.findings if f["applies"] and f["summary"]], said
    )
    covered = _covered_elsewhere(runs)
    in_short = {f["text"] for f in summary}
    sections = [_notebook_section(r, covered, said, lang, in_short) for r in runs]
    items = [section for section, _ in sections]
    missing = _one_per_need(_unique([f for _, notes in sections for f in notes], said))
    if missing:
        notes = "".join(f"<li>{esc(f['text'])}</li>" for f in missing)
        items.append(
            f'<section><h2>{t("Not covered by this data")}</h2><ul class="na">'
            + notes
            + "</ul></section>"
        )
    exec_items = "".join(f"<li>{esc(f['text'])}</li>" for f in summary)
    exec_block = (
        f"<section class='summary'><h2>{t('In short')}</h2><ul>{exec_items}</ul></section>"
        if exec_items
        else ""
    )
    page = _INDEX.format(
        lang=lang,
        title=t("Customer journey report"),
        glossary_heading=t("Glossary"),
        summary=exec_block,
        items="\n".join(items),
        downloads=_downloads(out, lang),
        glossary=_glossary(journey, lang),
        meta=esc(
            i18n.translate(
                "Data: the folder {folder} — {events} events, {customers} customers, "
                "{surveys} survey answers; observed at {observed}. Report made {made} by cxkit.",
                lang,
            ).format(**_facts(data, journey, made))
        ),
    )
    from .glossary import link_terms

    page = link_terms(page, href="", kinds=_survey_kinds(journey), lang=lang)
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    # every finding handed over; those of a failed notebook say so
    kept = {
        r.name: [{**f, "notebook_failed": r.error} if r.error else f for f in r.findings]
        for r in runs
    }
    (out / "findings.json").write_text(json.dumps(kept, indent=2, default=str))
    return path


def _downloads(out, lang="en"):
    """Links to what the report wrote for spreadsheets and dashboards."""
    esc = html.escape

    def t(text):
        return i18n.translate(text, lang)

    files = sorted((out / "tables").glob("*.csv"))
    if not files:
        return ""
    first = [f for f in files if f.stem == "contact_now"]
    lines = [
        f'<li><a href="tables/{esc(f.name)}">{esc(t("Customers to contact now"))}</a> '
        f"({esc(f.name)}): {esc(t('churn probability, expected gain and top reasons.'))}</li>"
        for f in first
    ]
    rest = ", ".join(f'<a href="tables/{esc(f.name)}">{esc(f.stem)}</a>' for f in files)
    lines.append(f"<li>{esc(t('Every table of the reports as CSV:'))} {rest}.</li>")
    lines.append(
        f"<li>{esc(t('Every finding with its numbers, for dashboards:'))} "
        '<a href="findings.json">findings.json</a>.</li>'
    )
    return f"<section><h2>{esc(t('Downloads'))}</h2><ul>{''.join(lines)}</ul></section>"


_HIDDEN_TAGS = {"script", "style", "template"}
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr",
    "ul",
}  # fmt: skip


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page):
    """The text a reader of an HTML page sees: tags, scripts, styles and comments removed,
    entities decoded, one line break around each block element.

    Examples
    --------
    >>> visible_text("<style>p {color: red}</style><p>4.2% buy</p><script>x = None</script>")
    '4.2% buy'
    """
    parser = _TextOnly()
    parser.feed(page)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


#: What a reader must never see, as (name, pattern): missing numbers, Python literals,
#: tracebacks and exception names. Whole words only ("information" and "infinite" are fine).
READER_NEVER_SEES = (
    ("nan", re.compile(r"\b(?i:nan)\b")),
    ("inf", re.compile(r"\b(?i:inf)\b")),
    ("NaT", re.compile(r"\bNaT\b")),
    ("None", re.compile(r"\bNone\b")),
    ("True", re.compile(r"\bTrue\b")),
    ("False", re.compile(r"\bFalse\b")),
    ("Traceback", re.compile(r"\bTraceback\b")),
    ("Error", re.compile(r"\b\w*Error\b")),
)


def reader_problems(text, *, context=40):
    """Words a reader must never see (:data:`READER_NEVER_SEES`) in ``text``, each as
    ``"nan: …the step rate is nan% of…"``; empty when the text is clean.

    Examples
    --------
    >>> reader_problems("Median time: inf days; see the information page.")
    ['inf: Median time: inf days; see the information page.']
    """
    found = []
    for name, pattern in READER_NEVER_SEES:
        for m in pattern.finditer(text):
            around = text[max(0, m.start() - context) : m.end() + context]
            found.append(f"{name}: {' '.join(around.split())}")
    return found


def _survey_kinds(journey):
    """The kinds of survey answer the data has ({"nps", "csat"} …), from its distinct values."""
    from ..engine.frames import survey_kinds

    return survey_kinds(journey)


def _glossary(journey, lang="en"):
    """The glossary, without survey terms the data has no answers for."""
    from .glossary import glossary_html

    return glossary_html(_survey_kinds(journey), lang=lang)


_INDEX = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       max-width: 900px; margin: 2rem auto; padding: 0 1.5rem; color: #222; line-height: 1.55; }}
h1 {{ color: #1f5f8b; }} h2 {{ margin-top: 1.8rem; }} a {{ color: #1f5f8b; }}
section {{ border-top: 1px solid #e3e3e3; }}
.summary {{ background: #f4f8fb; border: 1px solid #d6e4ee; padding: .2rem 1.2rem 1rem;
            border-radius: 6px; }}
.fail {{ color: #c4455d; font-weight: bold; }}
p.na {{ color: #555; margin-bottom: .2rem; }} ul.na {{ color: #555; font-size: 14px; }}
.meta {{ color: #666; font-size: 13px; }}
a.gloss {{ color: inherit; text-decoration: underline dotted #1f5f8b; }}
dt {{ font-weight: bold; margin-top: .6rem; }} dd {{ margin-left: 1.2rem; }}
</style></head>
<body>
<h1>{title}</h1>
<p class="meta">{meta}</p>
{summary}
{items}
{downloads}
<section><h2>{glossary_heading}</h2>{glossary}</section>
</body></html>
"""
