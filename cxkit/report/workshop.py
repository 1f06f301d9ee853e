"""Workshop mode: a student copy with exercises and a teacher's copy with the answers.

``cxkit workshop DIR`` writes

- ``DIR/student/notebooks/``: the notebooks, where every cell tagged ``solution`` is replaced by
  an exercise cell (the prompt comes from the cell's ``metadata["exercise"]``, or its first
  comment line); ``data_dir`` points at ``../data``;
- ``DIR/student/data/``: the sample data without ``truth.json``;
- ``DIR/teacher/``: ``guide.md`` (a 3-hour agenda, the questions, where the planted effects
  are, traps worth teaching, how to check answers), ``truth.json`` and the full notebooks.

Cells after an exercise never depend on the student's answer: a notebook that needs the result
of a solution recomputes it in the next cell (tagged ``catch-up``), so the student notebooks
run from top to bottom as they are.

Examples
--------
>>> from cxkit.report.workshop import make_workshop
>>> make_workshop("my_workshop")  # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path

from ..data import DataError, read_truth, sample_dir
from .execute import notebooks_dir

__all__ = ["make_workshop", "student_notebook"]

EXERCISE_HEADER = "# ✏️ EXERCISE"


def _prompt_of(cell):
    prompt = cell.get("metadata", {}).get("exercise")
    if prompt:
        return prompt
    for line in cell.source.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return "Write the code for this step."


def student_notebook(nb, data_dir="../data"):
    """A copy of ``nb`` with solutions replaced by exercises and ``data_dir`` set."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    cells = []
    n = 0
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags:  # point data_dir at the copy; keep the other parameters
            cell.source = re.sub(
                r"(?m)^data_dir\s*=.*$",
                f"data_dir = {data_dir!r}  # the workshop's copy of the data",
                cell.source,
            )
        if "solution" in tags:
            n += 1
            prompt = _prompt_of(cell)
            cells.append(
                nbformat.v4.new_code_cell(
                    f"{EXERCISE_HEADER} {n}: {prompt}\n# (the notebook carries on without your "
                    "answer)\n# your code here\n",
                    metadata={"tags": ["exercise"]},
                )
            )
            continue
        cells.append(cell)
    for i, cell in enumerate(cells):
        cell["id"] = f"student-{i:02d}"
    nb.cells = cells
    return nb, n


def make_workshop(folder, *, data=None, notebooks=None, force=False):
    """Write the student and teacher folders of a workshop (see the module docstring).

    Running it again on the same folder rewrites nothing that changed since: a file that
    differs from what would be written (a student's edited notebook) makes it stop, naming the
    files, unless ``force=True``.

    Returns
    -------
    dict
        ``{"student": Path, "teacher": Path, "exercises": {notebook: count}}``.
    """
    import nbformat

    folder = Path(folder)
    data = Path(data) if data is not None else sample_dir()
    nb_dir = Path(notebooks) if notebooks is not None else notebooks_dir()
    if folder.exists() and not folder.is_dir():
        raise DataError(
            folder,
            [{"column": None, "expected": "a folder for the workshop; this is a file"}],
            hint="pass a new folder (or the folder of an earlier workshop)",
        )
    if not data.is_dir():
        raise DataError(data, [{"column": None, "expected": "a data folder; there is none"}])
    truth = read_truth(data)
    if truth is None:
        raise DataError(
            data,
            [
                {
                    "column": None,
                    "expected": "a truth.json beside the data (the "
                    "workshop checks answers against the planted effects)",
                }
            ],
            hint="use the bundled sample, or a folder written by `cxkit simulate`",
        )
    student, teacher = folder / "student", folder / "teacher"
    files = {}  # path -> bytes, everything this workshop consists of
    for item in sorted(data.iterdir()):
        if item.is_file() and item.name != "truth.json":
            files[student / "data" / item.name] = item.read_bytes()
    files[teacher / "truth.json"] = (data / "truth.json").read_bytes()
    counts = {}
    for path in sorted(nb_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        files[teacher / "notebooks" / path.name] = path.read_bytes()
        copy_, n = student_notebook(nb)
        files[student / "notebooks" / path.name] = nbformat.writes(copy_).encode("utf-8")
        counts[path.stem] = n
    files[teacher / "guide.md"] = teacher_guide(truth, counts).encode("utf-8")
    changed = [p for p, body in files.items() if p.is_file() and p.read_bytes() != body]
    if changed and not force:
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": "a new workshop folder, or one whose files are as this "
                    "command wrote them; these were changed since (a student's work?)",
                    "rows": len(changed),
                    "examples": [str(p.relative_to(folder)) for p in changed],
                }
            ],
            hint="pass --force (force=True) to replace them, or choose another folder",
        )
    for path, body in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.is_file() and path.read_bytes() == body):
            path.write_bytes(body)
    return {"student": student, "teacher": teacher, "exercises": counts}


def _drivers_table(truth):
    rows = [
        "| driver | kind | planted hazard ratio | what it is | feature family |",
        "|---|---|---|---|---|",
    ]
    for d in truth["churn"]["drivers"]:
        rows.append(
            f"| {d['name']} | {d['kind']} | {d['hazard_ratio']} | {d['quantity']} | "
            f"{d['feature_family']} |"
        )
    return "\n".join(rows)


def teacher_guide(truth, exercises):
    """The teacher's guide, with the planted numbers of this dataset."""
    pain = truth["funnel"]["pain_point"]
    rates = truth["funnel"]["expected_step_rate"][pain["segment_column"]]
    seg_rate = rates[pain["segment_value"]][pain["step"]]
    others = {k: v[pain["step"]] for k, v in rates.items() if k != pain["segment_value"]}
    ex_lines = "\n".join(f"- `{name}`: {n} exercise(s)" for name, n in exercises.items())
    return f"""# Teacher's guide — cxkit workshop (3 hours)

The sample is simulated (seed {truth["seed"]}): every effect the students should find was
planted, and `truth.json` (in this folder only — the students' data has none) holds the numbers.

## Agenda

| time | part | notebook | the question |
|---|---|---|---|
| 0:00–0:15 | the data and the journey | 00_journey_overview | What is in a touchpoint log? Who are our customers? How do NPS and CSAT differ by touchpoint? |
| 0:15–0:55 | the buyer funnel | 01_buyer_funnel | Where do buyers drop off, for whom, and is the difference real? |
| 0:55–1:05 | break | | |
| 1:05–1:45 | retention | 02_retention_survival | How long do customers stay? What shortens it? |
| 1:45–2:25 | churn prediction | 03_churn_prediction | Who is about to leave — and is a campaign worth it? |
| 2:25–2:50 | customer value | 04_customer_value | What is each customer worth from here on, and how much of it sits with a few? |
| 2:50–3:00 | wrap-up | index.html of `cxkit report` | What would you tell the CEO? |

Exercises per notebook:
{ex_lines}

## Where the planted effects are

**Funnel pain point**: {pain["quantity"]}. Expected {pain["from_step"]} → {pain["step"]}
conversion: {seg_rate:.0%} for {pain["segment_column"]} = {pain["segment_value"]}, against
{", ".join(f"{k} {v:.0%}" for k, v in others.items())}. Droppers there go to `help_center` and
`contact_chat` far more often than others.

**Churn drivers** (proportional hazards, daily baseline hazard
{truth["churn"]["baseline_daily_hazard"]}, {truth["churn"]["baseline_note"]}):

{_drivers_table(truth)}

**Experience**: {truth["experience"]["nps"]}. CSAT after checkout is lower in the pain-point
segment (mean {truth["experience"]["csat_checkout"]["in_pain_segment_mean"]} vs
{truth["experience"]["csat_checkout"]["others_mean"]}).

**Attributes**: known at signup: {", ".join(truth["signup_attributes"])}. As of extraction (must
not be a feature before a cutoff): {", ".join(truth["as_of_extraction_attributes"])}.

## Traps worth teaching

1. **Mean tenure that ignores censoring.** Ask for "the average customer lifetime" before
   notebook 02: `(churned_at − signup_at).mean()` over churners only is far too short, and
   filling active customers with today's date is too short as well. Kaplan–Meier / RMST is the
   answer; compare the three numbers.
2. **Immortal-time bias.** "Customers who ever filed a support ticket stay longer" — because
   long-lived customers had more time to file one. The planted effect of tickets is the
   opposite (HR > 1). The time-varying Cox model and the NPS landmark analysis recover it.
3. **A feature that leaks the future.** The customers table is an export of today:
   `loyalty_tier` grows with spend up to today, and `days_inactive` counts the days since a
   customer was last seen *as of the export* — for someone who left, the days since they left.
   Put them in a churn model with cutoffs in the past (exercise in notebook 03) and the
   logistic model's ROC AUC jumps towards 1; `churn_dataset` refuses them by default and says
   why.
4. **Random train/test splits of time-ordered rows.** Out-of-time evaluation is lower and true.
5. **Open funnel windows.** People who entered in the last 14 days have not had time to buy.
   Ask which way counting them moves conversion, then measure it: `complete_only=True` judges
   each person only on entries whose window had closed (leaving out everyone whose *last*
   entry is open would drop the customers who keep coming back).
6. **"No significant difference" from a small segment.** Look at the minimum detectable effect.
7. **Value earned is not value to come.** Ranking customers by what they spent so far favours
   long-gone big spenders. Notebook 04's repeat-buying model discounts a customer who has been
   silent for longer than their own rhythm; compare its top fifth with the top fifth by past
   spend. The sample's purchases were not planted from that model, so there is no true value
   in `truth.json`: check the model on the holdout figure instead (predicted against actual
   repeat purchases in the last months).

## How to check answers

- Funnel: the step rate by {pain["segment_column"]} should be within its confidence interval of
  `funnel.expected_step_rate` in `truth.json`.
- Retention: hazard ratios within about two standard errors of `churn.drivers[].hazard_ratio`
  (the fixed ones from a Cox model on signup attributes, the time-varying ones from
  `cxkit.cox_time_varying`).
- Churn: the top feature families of the permutation importance should be among the
  `feature_family` values of the planted drivers.
"""
