"""Insert the workshop's exercise cells (tagged ``solution``) into the notebooks.

Idempotent: cells whose id starts with ``exercise-`` are replaced. Run after editing notebooks:
``.venv/bin/python tools/add_exercises.py``.
"""

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent / "notebooks"

# notebook -> list of (insert before the first cell whose source contains this text, markdown
# intro, exercise prompt, solution code)
EXERCISES = {
    "00_journey_overview": [
        (
            "## Where customers come from",
            "### Exercise: satisfaction by device\n\nDoes the device people buy on change how "
            "satisfied they are at checkout? Compute CSAT by device for the checkout touchpoint.",
            "Compute CSAT at the checkout touchpoint by device with cxkit.csat.",
            "surveys = journey.surveys\n"
            'about = surveys["touchpoint"] if "touchpoint" in surveys else None\n'
            'checkout = surveys[about == "checkout"] if about is not None else surveys.iloc[:0]\n'
            'if (checkout["survey"] == "csat").any():\n'
            '    display(cxkit.csat(checkout, customers=journey.customers, by="device").round(1))\n'
            "else:\n"
            '    print("No CSAT answers about checkout in this data.")',
        )
    ],
    "01_buyer_funnel": [
        (
            "## How long do steps take?",
            "### Exercise: a shorter window\n\nMarketing asks for a 3-day window instead of 14 days. "
            "How much does that change the share of entrants who buy?",
            'Compute the funnel with window="3D" and compare the last row with the 14-day funnel.',
            'short = cxkit.funnel(journey, steps, window="3D")\n'
            'short[["step", "customers", "pct_of_start"]].assign(\n'
            '    pct_14_days=overall["pct_of_start"].to_numpy()\n'
            ").round(1)",
        )
    ],
    "02_retention_survival": [
        (
            "## Expected time as a customer in the first year",
            "### Exercise: the naive average lifetime\n\nA colleague reports the average customer "
            "lifetime as the mean of `churned_at − signup_at` over customers who left. Compute it, "
            "and compare with the Kaplan–Meier median above. Why is the naive number so much "
            "shorter?",
            "Compute the mean duration of churned customers only, and the mean over everyone with "
            "active customers cut at the extraction date; compare both with the median above.",
            'naive_churners = table.loc[table["churned"], "duration_days"].mean()\n'
            'naive_all = table["duration_days"].mean()\n'
            'print(f"churners only: {naive_churners:.0f} days; everyone, cut at extraction: "\n'
            "      f\"{naive_all:.0f} days; Kaplan–Meier median: {overall['median_days']:.0f} days\")",
        )
    ],
    "03_churn_prediction": [
        (
            "## Whom to contact, and what it is worth",
            "### Exercise: a feature that leaks the future\n\nThe customers table also has columns "
            "recorded *as of extraction* (in the sample, `loyalty_tier`, computed from all spend up "
            "to today). Add them as features and compare the models again. Why does the model look "
            "better, and why would it fail on today's customers?",
            "Rebuild the dataset with static= plus the as-of-extraction columns, run "
            "cxkit.compare_models on it and compare ROC AUC with the table above.",
            "later = [c for c in journey.customers.columns\n"
            '         if c not in ("customer_id", "signup_at", "churned_at", *X.attrs["static"])]\n'
            "if later:\n"
            '    leaky_X, leaky_y = cxkit.churn_dataset(journey, "MS", lookback=lookback,\n'
            "                                           horizon=horizon,\n"
            '                                           static=[*X.attrs["static"], *later])\n'
            "    leaky = cxkit.compare_models(leaky_X, leaky_y, n_splits=2, n_boot=20)\n"
            '    print(f"with {later}: ROC AUC", leaky.table["roc_auc"].round(3).to_dict())\n'
            "else:\n"
            '    print("This customers table has no as-of-extraction columns.")',
        )
    ],
}


def add(path, exercises):
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not str(c.get("id", "")).startswith("exercise-")]
    for k, (anchor, intro, prompt, code) in enumerate(exercises):
        at = next(i for i, c in enumerate(nb.cells) if anchor in c.source)
        md = nbformat.v4.new_markdown_cell(intro, metadata={"tags": ["workshop"]})
        md["id"] = f"exercise-{k}-intro"
        sol = nbformat.v4.new_code_cell(code, metadata={"tags": ["solution"], "exercise": prompt})
        sol["id"] = f"exercise-{k}-solution"
        nb.cells[at:at] = [md, sol]
    nbformat.write(nb, path)


if __name__ == "__main__":
    for name, exercises in EXERCISES.items():
        path = ROOT / f"{name}.ipynb"
        if path.exists() and exercises:
            add(path, exercises)
            print(f"{name}: {len(exercises)} exercise(s)")
