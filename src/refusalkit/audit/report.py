"""`--report DIR`: summary.json and a self-contained report.html with plots."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from refusalkit.taxonomy import BY_ID


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _bar(title: str, labels: list[str], values: list[float], xlabel: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.4, max(1.6, 0.35 * len(labels) + 0.8)))
    axis.barh(labels[::-1], values[::-1], color="#4c72b0")
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    figure.tight_layout()
    encoded = _png(figure)
    plt.close(figure)
    return encoded


def write_report(directory: Path, summary: dict, title: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    rows = summary["rows"] or 1
    plots: list[tuple[str, str]] = []
    plots.append(
        (
            "Refusal rate",
            _bar(
                "Refusal rate",
                ["refusal", "compliance"],
                [summary["refusals"] / rows, 1 - summary["refusals"] / rows],
                "share of rows",
            ),
        )
    )
    levels = ["compliance", "partial_refusal", "full_refusal"]
    plots.append(
        (
            "Refusal levels",
            _bar(
                "Level mix",
                levels,
                [summary["levels"].get(k, 0) / rows for k in levels],
                "share of rows",
            ),
        )
    )
    if summary["categories"]:
        names = list(summary["categories"])
        plots.append(
            (
                "Refusal categories",
                _bar(
                    "Category composition of refusals",
                    names,
                    [summary["categories"][n] for n in names],
                    "refusals",
                ),
            )
        )
        groups = ["should_not", "cannot", "none"]
        plots.append(
            (
                "Should not vs cannot",
                _bar(
                    "Should-not vs cannot",
                    groups,
                    [summary["groups"].get(g, 0) for g in groups],
                    "refusals",
                ),
            )
        )
    for name, values in summary.get("by", {}).items():
        keys = sorted(values)
        rates = [values[k]["refusals"] / max(1, values[k]["rows"]) for k in keys]
        plots.append((f"By {name}", _bar(f"Refusal rate by {name}", keys, rates, "refusal rate")))
    table = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(BY_ID[k].group)}</td><td>{v}</td></tr>"
        for k, v in summary["categories"].items()
        if k in BY_ID
    )
    body = "".join(
        f"<h2>{html.escape(caption)}</h2><img alt='{html.escape(caption)}' "
        f"src='data:image/png;base64,{data}'>"
        for caption, data in plots
    )
    rate = summary["refusal_rate"]
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2rem .6rem}}</style>
</head><body><h1>{html.escape(title)}</h1>
<p id="headline">{summary["rows"]} rows, refusal rate {rate}, {summary["empty_responses"]} empty
responses; {summary.get("rows_per_s")} rows/s.</p>
{body}
<h2>Categories</h2><table><tr><th>category</th><th>group</th><th>refusals</th></tr>{table}</table>
</body></html>"""
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
