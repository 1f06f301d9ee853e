"""Write a notebook from a list of (kind, source) cells, stored without outputs.

Used to keep notebooks reviewable as code: `python tools/new_notebook.py` is not needed at run
time; notebooks are edited in JupyterLab too. Usage from another script::

    from tools.new_notebook import write
    write("notebooks/00_x.ipynb", [("md", "# Title"), ("params", "data_dir = None"), ...])
"""

import nbformat


def write(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (cxkit)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    out = []
    for i, (kind, source) in enumerate(cells):
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source.strip("\n"))
        else:
            cell = nbformat.v4.new_code_cell(source.strip("\n"))
            if kind == "params":
                cell.metadata["tags"] = ["parameters"]
            elif kind not in ("code",):
                cell.metadata["tags"] = [kind]
        cell.id = f"cell-{i:02d}"
        out.append(cell)
    nb.cells = out
    nbformat.validate(nb)
    nbformat.write(nb, path)
