"""Results of external attack tools, imported into the eval report.

- garak: its `*.report.jsonl` (point garak at `refusalkit serve`; see docs/eval.md). The `eval`
  entries give, per probe and detector, how many outputs passed out of how many.
- anything else (PyRIT, promptfoo, a script): JSONL rows with `attack` (a name to group by) and
  `success` (bool), optionally `prompt` and `response`.
"""

from __future__ import annotations

from pathlib import Path

from refusalkit.errors import InvalidInputError
from refusalkit.jsonl import json_lines


def import_results(path: Path) -> dict:
    rows = [row for _, row in json_lines(path) if isinstance(row, dict)]
    if any(row.get("entry_type") for row in rows):
        return _garak(path, rows)
    if rows and all("attack" in row and isinstance(row.get("success"), bool) for row in rows):
        groups: dict[str, list[bool]] = {}
        for row in rows:
            groups.setdefault(str(row["attack"]), []).append(row["success"])
        return {
            "source": str(path),
            "tool": "generic",
            "by_attack": {
                name: {"attempts": len(v), "attack_success_rate": round(sum(v) / len(v), 4)}
                for name, v in sorted(groups.items())
            },
        }
    raise InvalidInputError(
        f"{path}: neither a garak report (entry_type rows) nor rows with 'attack' and a boolean "
        "'success'; see docs/eval.md"
    )


def _garak(path: Path, rows: list[dict]) -> dict:
    by_attack: dict[str, dict] = {}
    for row in rows:
        if row.get("entry_type") != "eval":
            continue
        total = int(row.get("total") or row.get("total_evaluated") or 0)
        passed = int(row.get("passed") or 0)
        if total <= 0:
            continue
        name = f"{row.get('probe')} / {row.get('detector')}"
        by_attack[name] = {
            "attempts": total,
            # garak's "passed" outputs resisted the probe; the rest are hits
            "attack_success_rate": round(1 - passed / total, 4),
        }
    if not by_attack:
        raise InvalidInputError(f"{path}: a garak report without 'eval' entries (was the run cut?)")
    return {"source": str(path), "tool": "garak", "by_attack": dict(sorted(by_attack.items()))}
