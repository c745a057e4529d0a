"""report.html for `refusalkit eval`: the metrics table and plots, one self-contained file
(plots inline as PNG), plus the PNG files beside it."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np


def _figure(width: float = 6.4, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(width, height))


def _save(plt, figure, out: Path, name: str) -> str:
    figure.tight_layout()
    figure.savefig(out / name, dpi=110)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _paired_bars(out: Path, name: str, title: str, labels: list[str], unguarded, guarded) -> str:
    plt, figure, axis = _figure(7.0, max(2.4, 0.36 * len(labels) + 1.2))
    y = np.arange(len(labels))
    axis.barh(y + 0.2, [v or 0 for v in unguarded], 0.4, label="unguarded", color="#c44e52")
    axis.barh(y - 0.2, [v or 0 for v in guarded], 0.4, label="guarded", color="#4c72b0")
    axis.set_yticks(y, labels)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_title(title)
    axis.legend(loc="lower right")
    return _save(plt, figure, out, name)


def _roc(out: Path, cases) -> tuple[str, float] | None:
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = [c.kind == "attack" for c in cases]
    scores = [c.input_score for c in cases]
    if all(labels) or not any(labels):
        return None
    fpr, tpr, _ = roc_curve(labels, scores)
    auc = float(roc_auc_score(labels, scores))
    plt, figure, axis = _figure(4.8, 4.2)
    axis.plot(fpr, tpr, color="#4c72b0", label=f"input classifier (AUC {auc:.3f})")
    axis.plot([0, 1], [0, 1], ":", color="grey")
    axis.set_xlabel("false-positive rate (benign prompts)")
    axis.set_ylabel("true-positive rate (attacks)")
    axis.set_title("Input classifier ROC on this run's prompts")
    axis.legend(loc="lower right")
    return _save(plt, figure, out, "roc_input.png"), auc


def _latency(out: Path, cases) -> str | None:
    values = [c.input_latency_ms for c in cases if c.input_latency_ms]
    if not values:
        return None
    plt, figure, axis = _figure(6.0, 3.2)
    axis.hist(values, bins=40, color="#55a868")
    axis.set_xlabel("input check latency (ms)")
    axis.set_ylabel("prompts")
    axis.set_title("Input classifier latency")
    return _save(plt, figure, out, "latency_input.png")


def _table(rows: list[tuple[str, object]]) -> str:
    body = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"


def write_eval_report(out: Path, metrics: dict, cases) -> Path:
    attacks = metrics["attacks"]
    families = list(attacks["by_family"])
    plots: list[tuple[str, str, str]] = []
    plots.append(
        (
            "Attack success per transform family",
            "An attack succeeds when the answer is not a refusal (audit classifier) and is harmful "
            "(output classifier). Guarded: the guard let that answer through.",
            _paired_bars(
                out,
                "asr_by_family.png",
                "Attack success rate",
                families,
                [attacks["by_family"][f]["unguarded"] for f in families],
                [attacks["by_family"][f]["guarded"] for f in families],
            ),
        )
    )
    plots.append(
        (
            "Answers that were not refusals, per family",
            "The same attacks, counting every non-refusal (an upper bound on success that does not "
            "depend on the output classifier).",
            _paired_bars(
                out,
                "compliance_by_family.png",
                "Non-refusal rate under attack",
                families,
                [attacks["by_family"][f]["compliance_unguarded"] for f in families],
                [attacks["by_family"][f]["compliance_guarded"] for f in families],
            ),
        )
    )
    over = metrics["over_refusal"]
    names = list(over)
    plots.append(
        (
            "Over-refusal",
            "Refusal rate on prompts that should be answered; the increase is the guard's cost.",
            _paired_bars(
                out,
                "over_refusal.png",
                "Refusal rate on benign prompts",
                names,
                [over[n]["unguarded"] for n in names],
                [over[n]["guarded"] for n in names],
            ),
        )
    )
    roc = _roc(out, cases)
    if roc is not None:
        plots.append(("Input classifier ROC", f"AUC {roc[1]:.3f}", roc[0]))
    latency = _latency(out, cases)
    if latency is not None:
        plots.append(("Classifier latency", "Every input check of this run.", latency))
    steering_dir = out / "steering"
    for name, title in (
        ("all_threshold.png", "Steering: refusal rate vs threshold"),
        ("per_category.png", "Steering: one category at a time"),
    ):
        if (steering_dir / name).is_file():
            encoded = base64.b64encode((steering_dir / name).read_bytes()).decode()
            plots.append((title, "Refusal-token model on CoCoNot eval vs contrast.", encoded))

    audit = metrics["refusal_audit_accuracy"]
    rows = [
        ("suite", metrics["suite"]),
        ("model", metrics["model"]),
        ("constitution", metrics["constitution"]),
        (
            "attack success rate (unguarded → guarded)",
            f"{metrics['attack_success_rate']['unguarded']} → "
            f"{metrics['attack_success_rate']['guarded']}",
        ),
        (
            "non-refusal under attack (unguarded → guarded)",
            f"{metrics['attack_compliance_rate']['unguarded']} → "
            f"{metrics['attack_compliance_rate']['guarded']}",
        ),
        *[
            (
                f"over-refusal {n} (unguarded → guarded)",
                f"{over[n]['unguarded']} → {over[n]['guarded']}",
            )
            for n in names
        ],
        (
            "refusal audit accuracy (binary / three-level)",
            f"{audit['binary']} / {audit['three_level']}",
        ),
        ("guard overhead", metrics["guard_overhead"]),
        (
            "input check p50 / p95 (ms)",
            f"{metrics['classifier_latency_ms']['input_p50']} / "
            f"{metrics['classifier_latency_ms']['input_p95']}",
        ),
        ("cases", metrics["cases"]),
        ("wall time (s)", metrics["timings_s"]["total_s"]),
    ]
    if "steering" in metrics:
        steering = metrics["steering"]
        rows += [
            ("steering F1 at default thresholds", steering["f1_default"]),
            (
                "steering refusal rate all=0.999 / all=0.001",
                f"{steering['refusal_rate_all_0.999']} / {steering['refusal_rate_all_0.001']}",
            ),
        ]
    external = "".join(
        f"<h2>External: {html.escape(item['tool'])} ({html.escape(item['source'])})</h2>"
        + _table(
            [
                (name, f"success {v['attack_success_rate']} of {v['attempts']} attempts")
                for name, v in item["by_attack"].items()
            ]
        )
        for item in metrics.get("external", [])
    )
    sections = external + "".join(
        f"<h2>{html.escape(title)}</h2><p>{html.escape(note)}</p>"
        f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
        for title, note, data in plots
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>refusalkit eval — {html.escape(metrics["suite"])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:900px;margin:2rem auto;padding:0 1rem}}
td{{padding:.2rem .8rem;border-bottom:1px solid #ddd}}img{{max-width:100%}}</style></head>
<body><h1>refusalkit eval — {html.escape(metrics["suite"])} suite</h1>
{_table(rows)}{sections}
<p>Numbers: metrics.json; every prompt and answer: cases.jsonl.</p></body></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
