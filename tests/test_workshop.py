"""Workshop mode: student copies without solutions that still run; a teacher's guide."""

import json

import nbformat
import pytest

from cxkit.report import execute_notebook
from cxkit.report.workshop import EXERCISE_HEADER, make_workshop


@pytest.fixture(scope="module")
def workshop(tmp_path_factory):
    return make_workshop(tmp_path_factory.mktemp("ws"))


def solutions(path):
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if "solution" in c.metadata.get("tags", [])]


def test_every_notebook_has_an_exercise_and_no_solution_in_the_student_copy(workshop):
    teacher_nbs = sorted((workshop["teacher"] / "notebooks").glob("*.ipynb"))
    assert len(teacher_nbs) == 5
    for path in teacher_nbs:
        answers = solutions(path)
        assert answers, f"{path.name} has no exercise"
        teacher = nbformat.read(path, as_version=4)
        shared = {
            line
            for c in teacher.cells
            for line in c.source.splitlines()
            if "solution" not in c.metadata.get("tags", [])
        }
        student = nbformat.read(workshop["student"] / "notebooks" / path.name, as_version=4)
        text = {line for c in student.cells for line in c.source.splitlines()}
        for answer in answers:
            own = [ln for ln in answer.splitlines() if ln.strip() and ln not in shared]
            assert own and not set(own) & text, f"{path.name} leaks its solution"
        source = "\n".join(c.source for c in student.cells)
        assert source.count(EXERCISE_HEADER) == len(answers) == workshop["exercises"][path.stem]
        params = [c for c in student.cells if "parameters" in c.metadata.get("tags", [])]
        assert "'../data'" in params[0].source


def test_student_data_has_no_truth_and_the_teacher_has_it(workshop):
    student_files = {p.name for p in (workshop["student"] / "data").iterdir()}
    assert {"events.csv.gz", "customers.csv", "surveys.csv"} <= student_files
    assert "truth.json" not in student_files
    truth = json.loads((workshop["teacher"] / "truth.json").read_text())
    guide = (workshop["teacher"] / "guide.md").read_text()
    pain = truth["funnel"]["pain_point"]
    assert pain["segment_value"] in guide and pain["step"] in guide
    for driver in truth["churn"]["drivers"]:
        assert driver["quantity"] in guide
    assert "3 hours" in guide and "loyalty_tier" in guide and "censoring" in guide


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "00_journey_overview",
        "01_buyer_funnel",
        "02_retention_survival",
        "03_churn_prediction",
        "04_customer_value",
    ],
)
def test_student_notebooks_run_top_to_bottom(workshop, name):
    nb, error = execute_notebook(workshop["student"] / "notebooks" / f"{name}.ipynb")
    assert error is None, error


def test_a_second_run_keeps_the_students_edits(tmp_path, capsys):
    from cxkit import DataError
    from cxkit.cli import main

    made = make_workshop(tmp_path / "ws")
    again = make_workshop(tmp_path / "ws")  # nothing changed: nothing to refuse
    assert again["exercises"] == made["exercises"]
    edited = made["student"] / "notebooks" / "01_buyer_funnel.ipynb"
    nb = nbformat.read(edited, as_version=4)
    nb.cells[0].source += "\n\nmy notes"
    nbformat.write(nb, edited)
    mine = edited.read_bytes()
    with pytest.raises(
        DataError, match=r"(?s)changed since.*1 row.*01_buyer_funnel\.ipynb.*force"
    ):
        make_workshop(tmp_path / "ws")
    assert edited.read_bytes() == mine
    assert main(["workshop", str(tmp_path / "ws")]) == 2
    assert "--force" in capsys.readouterr().err and edited.read_bytes() == mine
    assert main(["workshop", str(tmp_path / "ws"), "--force"]) == 0
    assert b"my notes" not in edited.read_bytes()
