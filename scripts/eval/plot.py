#!/usr/bin/env python3
"""Figures and summary of `make eval` (docs/eval.md), from what esact-eval writes.

    plot.py --results build/eval/results.json --pam build/eval/pam.json --out build/eval

writes OUT/pareto.png (Recall@1 against computation removed, every method), OUT/pam.png
(one real attention head: the exact attention of the int8 layer, the predicted attention matrix, the SPA mask
with reused rows shaded) and prints, for each method, the best computation removed at
equal quality: recall_at_1 >= recall_at_1_fp32 - 0.01 (the paper's "< 1% loss").

Both inputs are checked before anything is drawn. A missing or malformed input file
exits 2 with a message naming the file and the reason; other failures exit 1. Runs with
the project's Python (.venv/, scripts/install-py-deps.sh installs numpy and matplotlib).
"""

import argparse
import json
import math
import os
import sys

EXIT_INPUT = 2   # a missing or malformed input file
EXIT_OTHER = 1   # anything else (missing packages, unwritable output)

EQUAL_QUALITY_LOSS = 0.01   # the summary's budget, absolute Recall@1
EPS = 1e-9                  # so 0.84 counts as >= 0.85 - 0.01 in binary floating point

# Defaults of the "paper" block (ESACT's abstract) when results.json has none.
PAPER_DEFAULTS = {"computation_removed": 0.52, "accuracy_loss": 0.01}

# Known methods in display order; any other method is drawn after them.
METHODS = ["fp32", "int8_dense", "spls", "sanger", "spatten"]
STYLES = {
    "fp32": {"label": "fp32", "color": "black", "marker": "o", "linestyle": "-"},
    "int8_dense": {"label": "int8 dense", "color": "tab:gray", "marker": "s", "linestyle": "-"},
    "spls": {"label": "SPLS (ESACT)", "color": "tab:blue", "marker": "o", "linestyle": "-"},
    "sanger": {"label": "Sanger-style", "color": "tab:orange", "marker": "^",
               "linestyle": "--"},
    "spatten": {"label": "SpAtten-style", "color": "tab:green", "marker": "D",
                "linestyle": ":"},
}
EXTRA_STYLES = [("tab:red", "v", "-."), ("tab:purple", "P", "--"), ("tab:brown", "X", ":"),
                ("tab:pink", "*", "-."), ("tab:olive", "h", "--"), ("tab:cyan", "p", ":")]


class InputError(Exception):
    """A missing or malformed input file: exits EXIT_INPUT with `path: reason`."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")


# ---- Reading and checking the inputs ------------------------------------------------------

class _NonFinite(Exception):
    pass


def _reject_constant(name):
    raise _NonFinite(name)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise InputError(path, "no such file")
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a JSON file")
    except PermissionError:
        raise InputError(path, "cannot be read (permission denied)")
    except UnicodeDecodeError:
        raise InputError(path, "is not UTF-8 text")
    except OSError as e:
        raise InputError(path, f"cannot be read ({e.strerror or e})")
    if not text.strip():
        raise InputError(path, "is empty, expected a JSON object")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except _NonFinite as e:
        raise InputError(path, f"not valid JSON: {e} is not a JSON number")
    except json.JSONDecodeError as e:
        raise InputError(path, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")
    except (ValueError, RecursionError) as e:
        raise InputError(path, f"not valid JSON: {e}")


def _kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class Checker:
    """Type checks that name the file and the offending field."""

    def __init__(self, path):
        self.path = path

    def fail(self, where, reason):
        raise InputError(self.path, f"{where}: {reason}" if where else reason)

    def obj(self, v, where):
        if not isinstance(v, dict):
            self.fail(where, f"expected an object, got {_kind(v)}")
        return v

    def field(self, o, key, where, required=True):
        if key not in o:
            if required:
                self.fail(where, f"missing \"{key}\"")
            return None
        return o[key]

    def number(self, v, where, lo=None, hi=None):
        if not _is_number(v):
            self.fail(where, f"expected a number, got {_kind(v)}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(where, f"{v} is outside [{lo}, {hi}]")
        return float(v)

    def integer(self, v, where, lo=None, hi=None):
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(where, f"expected an integer, got {_kind(v)}"
                      + (f" {v}" if _is_number(v) else ""))
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(where, f"{v} is outside {lo}..{hi}")
        return v

    def string(self, v, where, nonempty=False):
        if not isinstance(v, str):
            self.fail(where, f"expected a string, got {_kind(v)}")
        if nonempty and not v:
            self.fail(where, "is empty")
        return v

    def list(self, v, where, length=None, nonempty=False):
        if not isinstance(v, list):
            self.fail(where, f"expected a list, got {_kind(v)}")
        if length is not None and len(v) != length:
            self.fail(where, f"expected {length} entries (n = {length}), got {len(v)}")
        if nonempty and not v:
            self.fail(where, "is an empty list")
        return v

    def matrix(self, v, where, n, integers=False):
        rows = self.list(v, where, length=n)
        out = []
        for i, row in enumerate(rows):
            self.list(row, f"{where}[{i}]", length=n)
            if integers:
                out.append([self.integer(x, f"{where}[{i}][{j}]") for j, x in enumerate(row)])
            else:
                out.append([self.number(x, f"{where}[{i}][{j}]") for j, x in enumerate(row)])
        return out


def check_results(path, data):
    c = Checker(path)
    c.obj(data, "")
    task = c.field(data, "task", "", required=False)
    task = c.obj(task, "task") if task is not None else {}
    paper = c.field(data, "paper", "", required=False)
    paper = dict(c.obj(paper, "paper")) if paper is not None else {}
    for key, default in PAPER_DEFAULTS.items():
        if key in paper:
            paper[key] = c.number(paper[key], f"paper.{key}")
        else:
            paper[key] = default
    rows = c.list(c.field(data, "rows", ""), "rows", nonempty=True)
    out = []
    for i, row in enumerate(rows):
        w = f"rows[{i}]"
        c.obj(row, w)
        r = {
            "index": i,
            "method": c.string(c.field(row, "method", w), f"{w}.method", nonempty=True),
            "computation_removed": c.number(c.field(row, "computation_removed", w),
                                            f"{w}.computation_removed", hi=1),
            "recall_at_1": c.number(c.field(row, "recall_at_1", w), f"{w}.recall_at_1", 0, 1),
            "recall_at_1_fp32": c.number(c.field(row, "recall_at_1_fp32", w),
                                         f"{w}.recall_at_1_fp32", 0, 1),
        }
        if "macs_removed" in row:
            r["macs_removed"] = c.number(row["macs_removed"], f"{w}.macs_removed", hi=1)
        if "cosine_vs_fp32" in row:
            r["cosine_vs_fp32"] = c.number(row["cosine_vs_fp32"], f"{w}.cosine_vs_fp32", -1, 1)
        params = row.get("params", {})
        r["params"] = c.obj(params, f"{w}.params")
        default = row.get("default", False)
        if not isinstance(default, bool):
            c.fail(f"{w}.default", f"expected true or false, got {_kind(default)}")
        r["default"] = default
        out.append(r)
    return {"task": task, "paper": paper, "rows": out}


def check_pam(path, data):
    c = Checker(path)
    c.obj(data, "")
    p = {
        "layer": c.integer(c.field(data, "layer", ""), "layer", lo=0),
        "head": c.integer(c.field(data, "head", ""), "head", lo=0),
        "text": c.string(c.field(data, "text", ""), "text"),
        "n": c.integer(c.field(data, "n", ""), "n", lo=1),
    }
    n = p["n"]
    tokens = c.list(c.field(data, "tokens", ""), "tokens", length=n)
    p["tokens"] = [c.string(t, f"tokens[{i}]") for i, t in enumerate(tokens)]
    p["pam"] = c.matrix(c.field(data, "pam", ""), "pam", n, integers=True)
    p["attention"] = c.matrix(c.field(data, "attention", ""), "attention", n)
    spa = c.list(c.field(data, "spa", ""), "spa", length=n)
    p["spa"] = []
    for i, cols in enumerate(spa):
        c.list(cols, f"spa[{i}]")
        seen = set()
        for j, col in enumerate(cols):
            c.integer(col, f"spa[{i}][{j}]", lo=0, hi=n - 1)
            if col in seen:
                c.fail(f"spa[{i}][{j}]", f"column {col} is listed twice")
            seen.add(col)
        p["spa"].append(list(cols))
    reuse = c.list(c.field(data, "reuse", ""), "reuse", length=n)
    p["reuse"] = [c.integer(r, f"reuse[{i}]", lo=0, hi=n - 1) for i, r in enumerate(reuse)]
    return p


# ---- Summary ------------------------------------------------------------------------------

def ordered_methods(rows):
    seen = []
    for r in rows:
        if r["method"] not in seen:
            seen.append(r["method"])
    return [m for m in METHODS if m in seen] + [m for m in seen if m not in METHODS]


def format_params(params):
    parts = []
    for k, v in params.items():
        if isinstance(v, float):
            v = f"{v:g}"
        elif isinstance(v, (dict, list)):
            v = json.dumps(v, separators=(",", ":"))
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def equal_quality(rows):
    """Per method: the row with the largest computation_removed whose recall_at_1 is within
    EQUAL_QUALITY_LOSS of its own recall_at_1_fp32, or None."""
    best = {}
    for m in ordered_methods(rows):
        ok = [r for r in rows if r["method"] == m
              and r["recall_at_1"] >= r["recall_at_1_fp32"] - EQUAL_QUALITY_LOSS - EPS]
        best[m] = max(ok, key=lambda r: (r["computation_removed"], r["recall_at_1"]),
                      default=None)
    return best


def print_summary(results, out=sys.stdout):
    rows = results["rows"]
    best = equal_quality(rows)
    width = max(len(m) for m in best)
    print(f"best computation_removed at equal quality "
          f"(recall_at_1 >= recall_at_1_fp32 - {EQUAL_QUALITY_LOSS:g}):", file=out)
    for m, r in best.items():
        if r is None:
            top = max((x for x in rows if x["method"] == m), key=lambda x: x["recall_at_1"])
            print(f"  {m + ':':<{width + 1}} none (best recall_at_1 {top['recall_at_1']:.3f}"
                  f" vs fp32 {top['recall_at_1_fp32']:.3f})", file=out)
        else:
            extra = format_params(r["params"])
            print(f"  {m + ':':<{width + 1}} {r['computation_removed']:.3f} (recall_at_1 "
                  f"{r['recall_at_1']:.3f} vs fp32 {r['recall_at_1_fp32']:.3f}"
                  + (f"; {extra}" if extra else "") + ")", file=out)


# ---- Figures ------------------------------------------------------------------------------

def style_of(method, extra_index):
    if method in STYLES:
        return dict(STYLES[method])
    color, marker, ls = EXTRA_STYLES[extra_index % len(EXTRA_STYLES)]
    return {"label": method, "color": color, "marker": marker, "linestyle": ls}


def pareto_front(points):
    """Points (x, y, row) not dominated by another (more removed and at least as good)."""
    front, best_y = [], -math.inf
    for p in sorted(points, key=lambda p: (-p[0], -p[1])):
        if p[1] > best_y:
            front.append(p)
            best_y = p[1]
    return sorted(front, key=lambda p: p[0])


def fp32_recall(rows):
    fp32 = [r["recall_at_1"] for r in rows if r["method"] == "fp32"]
    if fp32:
        return fp32[0]
    refs = sorted(r["recall_at_1_fp32"] for r in rows)
    return refs[len(refs) // 2]


def plot_pareto(plt, results, path):
    from matplotlib.ticker import PercentFormatter

    rows, task, paper = results["rows"], results["task"], results["paper"]
    ref = fp32_recall(rows)
    loss = paper["accuracy_loss"]
    budget = ref - loss

    fig, ax = plt.subplots(figsize=(9.5, 6.5), constrained_layout=True)
    ax.axhline(ref, color="black", linewidth=1, zorder=1,
               label=f"fp32 Recall@1 ({ref:.1%})")
    ax.axhline(budget, color="tab:red", linewidth=1, linestyle="--", zorder=1,
               label=f"fp32 \u2212 {loss:.0%} (paper's < {loss:.0%} loss budget)")

    extra = 0
    for m in ordered_methods(rows):
        st = style_of(m, extra)
        extra += m not in STYLES
        pts = sorted(((r["computation_removed"], r["recall_at_1"], r) for r in rows
                      if r["method"] == m), key=lambda p: (p[0], p[1]))
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        # Every point, thin; the method's Pareto front, thick and filled.
        ax.plot(xs, ys, color=st["color"], linestyle=st["linestyle"], linewidth=0.8,
                alpha=0.45, marker=st["marker"], markersize=5, markerfacecolor="white",
                zorder=2)
        front = pareto_front(pts)
        ax.plot([p[0] for p in front], [p[1] for p in front], color=st["color"],
                linestyle=st["linestyle"], linewidth=2.4, marker=st["marker"], markersize=7,
                label=f"{st['label']} ({len(pts)} point{'s' if len(pts) != 1 else ''})",
                zorder=3)

    def note(x, y, text, dx, dy, color, corner=None):
        # Next to the point (offset in points), or in a corner of the axes (fractions).
        where = {"xytext": corner, "textcoords": "axes fraction", "ha": "right",
                 "va": "top"} if corner else \
            {"xytext": (dx, dy), "textcoords": "offset points",
             "ha": "left" if dx >= 0 else "right", "va": "center"}
        ax.annotate(text, xy=(x, y), fontsize=8.5, color=color, zorder=6, **where,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": color,
                          "alpha": 0.9},
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 0.9})

    for r in rows:
        if r["method"] == "int8_dense":
            ax.plot(r["computation_removed"], r["recall_at_1"], marker="s", markersize=13,
                    markerfacecolor="none", markeredgecolor="tab:gray", markeredgewidth=1.6,
                    zorder=4)
            note(r["computation_removed"], r["recall_at_1"],
                 f"int8 dense\nR@1 {r['recall_at_1']:.1%}", 28, -30, "dimgray")
    for r in rows:
        if r["default"]:
            name = "SPLS" if r["method"] == "spls" else r["method"]
            params = format_params(r["params"])
            text = (f"default {name} (docs/spls.md)\n"
                    + (f"{params}\n" if params else "")
                    + f"{r['computation_removed']:.1%} removed, R@1 {r['recall_at_1']:.1%}")
            ax.plot(r["computation_removed"], r["recall_at_1"], marker="o", markersize=15,
                    markerfacecolor="none", markeredgecolor="tab:blue", markeredgewidth=1.8,
                    zorder=4)
            # Upper right, above the fronts: nothing removes more at better quality.
            note(r["computation_removed"], r["recall_at_1"], text, 0, 0, "tab:blue",
                 corner=(0.985, 0.975))

    px = paper["computation_removed"]
    ax.plot(px, budget, marker="*", markersize=18, color="tab:red", markeredgecolor="black",
            linestyle="none", zorder=5,
            label=f"paper target: {px:.0%} removed at < {loss:.0%} loss")
    note(px, budget, "paper (abstract)", 22, 26, "tab:red")

    xs = [r["computation_removed"] for r in rows] + [0.0, px]
    lo, hi = min(xs), max(xs)
    pad = max(0.04, 0.08 * (hi - lo))
    ax.set_xlim(lo - pad, min(1.0, hi + pad) if hi < 1.0 else 1.0 + pad / 4)
    ys = [r["recall_at_1"] for r in rows] + [ref, budget]
    ylo, yhi = min(ys), max(ys)
    yr = max(0.02, yhi - ylo)
    # Headroom above fp32 for the default-setting note.
    ax.set_ylim(max(0.0, ylo - 0.06 * yr), min(1.0 + 0.02 * yr, yhi + 0.32 * yr))

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1 if yhi - ylo < 0.2 else 0))
    ax.set_xlabel("computation removed: 1 \u2212 (executed MACs + weighted predictor ops)"
                  " / dense MACs")
    ax.set_ylabel("Recall@1 (query \u2192 its package's description)")
    ax.grid(True, color="0.9", zorder=0)
    model = task.get("model", "all-MiniLM-L6-v2")
    name = task.get("name", "")
    title = f"{model}: quality against computation removed"
    facts = []
    if name:
        facts.append(str(name))
    for key, what in (("documents", "documents"), ("queries", "queries")):
        if _is_number(task.get(key)):
            facts.append(f"{task[key]:g} {what}")
    if _is_number(task.get("mean_document_tokens")):
        facts.append(f"mean {task['mean_document_tokens']:.1f} tokens"
                     + (f" (max {task['max_tokens']:g})" if _is_number(task.get("max_tokens"))
                        else ""))
    if facts:
        title += "\n" + ", ".join(facts)
    ax.set_title(title, fontsize=11)
    leg = ax.legend(loc="lower left", fontsize=8.5, framealpha=0.92)
    leg.set_title("thick: each method's Pareto front", prop={"size": 8})
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _truncate(text, limit):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def plot_pam(plt, pam, path):
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap, TwoSlopeNorm
    from matplotlib.patches import Rectangle

    n, tokens = pam["n"], pam["tokens"]
    att = np.array(pam["attention"], dtype=float)
    pred = np.array(pam["pam"], dtype=float)
    reused = [i for i in range(n) if pam["reuse"][i] != i]
    # SPA: 0 dropped, 1 kept (anchor row), 2 kept (reused row), 3 dropped (reused row).
    spa = np.zeros((n, n), dtype=int)
    for i in reused:
        spa[i, :] = 3
    for i, cols in enumerate(pam["spa"]):
        spa[i, cols] = 2 if i in reused else 1

    labels = n <= 48
    side = min(7.0, max(3.6, 0.15 * n + 1.6))
    fig, axes = plt.subplots(1, 3, figsize=(3 * side + 3.2, side + (1.9 if labels else 1.2)),
                             sharex=True, sharey=True, constrained_layout=True)
    common = {"interpolation": "nearest", "aspect": "equal"}

    im = axes[0].imshow(att, cmap="viridis", vmin=0.0, vmax=max(float(att.max()), 1e-12),
                        **common)
    fig.colorbar(im, ax=axes[0], shrink=0.82, label="softmax probability")
    axes[0].set_title("attention (int8 layer, integer softmax)")

    lo, hi = float(pred.min()), float(pred.max())
    if lo < 0 < hi:
        im = axes[1].imshow(pred, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, lo, hi), **common)
    else:
        im = axes[1].imshow(pred, cmap="magma", vmin=lo, vmax=hi if hi > lo else lo + 1,
                            **common)
    fig.colorbar(im, ax=axes[1], shrink=0.82, label="predicted score (integer)")
    axes[1].set_title("predicted attention matrix (PAM)")

    cmap = ListedColormap(["white", "tab:blue", "tab:orange", "#fde5c8"])
    im = axes[2].imshow(spa, cmap=cmap, norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5], 4),
                        **common)
    cb = fig.colorbar(im, ax=axes[2], shrink=0.82, ticks=[0, 1, 2, 3])
    cb.ax.set_yticklabels(["dropped", "kept (anchor row)", "kept (reused row)",
                           "dropped (reused row)"], fontsize=8)
    for i in reused:
        axes[2].add_patch(Rectangle((-0.5, i - 0.5), n, 1, fill=False, hatch="///",
                                    edgecolor="tab:orange", linewidth=0, alpha=0.55))
    ks = sorted({len(c) for c in pam["spa"]})
    kdesc = f"k = {ks[0]}" if len(ks) == 1 else f"k = {ks[0]}..{ks[-1]}"
    axes[2].set_title(f"SPA mask (Top-{kdesc.split(' = ')[1]}), "
                      f"{len(reused)} of {n} rows reused")
    # Right of the mask: the anchor each reused row takes its selection from.
    if reused:
        sec = axes[2].secondary_yaxis("right")
        sec.set_yticks(reused)
        if labels:
            sec.set_yticklabels([f"\u2192 {pam['reuse'][i]} {tokens[pam['reuse'][i]]}"
                                 for i in reused], fontsize=7, color="tab:orange")
        else:
            sec.set_yticklabels([f"\u2192 {pam['reuse'][i]}" for i in reused], fontsize=6,
                                color="tab:orange")
        sec.tick_params(length=2, color="tab:orange")

    fs = 9 if n <= 16 else max(5.5, 9 - (n - 16) / 9)
    for ax in axes:
        ax.set_xlabel("key token")
        if labels:
            ax.set_xticks(range(n))
            ax.set_xticklabels(tokens, rotation=90, fontsize=fs)
    axes[0].set_ylabel("query token")
    if labels:
        axes[0].set_yticks(range(n))
        axes[0].set_yticklabels([f"{t} {i}" for i, t in enumerate(tokens)], fontsize=fs)

    fig.suptitle(f"layer {pam['layer']}, head {pam['head']}, {n} tokens, {kdesc}: "
                 f"\u201c{_truncate(pam['text'], 90)}\u201d", fontsize=12)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---- Main ---------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="plot.py", description="Figures and summary of make eval (docs/eval.md).")
    ap.add_argument("--results", required=True, help="results.json from esact-eval")
    ap.add_argument("--pam", required=True, help="pam.json from esact-eval")
    ap.add_argument("--out", required=True, help="directory for pareto.png and pam.png")
    args = ap.parse_args(argv)

    try:
        results = check_results(args.results, load_json(args.results))
        pam = check_pam(args.pam, load_json(args.pam))
    except InputError as e:
        print(f"plot.py: {e}", file=sys.stderr)
        return EXIT_INPUT

    try:
        import numpy  # noqa: F401
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"plot.py: {e.name or e} is not installed for {sys.executable}: run "
              "scripts/install-py-deps.sh (make deps does) and use .venv/bin/python",
              file=sys.stderr)
        return EXIT_OTHER

    try:
        os.makedirs(args.out, exist_ok=True)
        pareto = os.path.join(args.out, "pareto.png")
        pam_png = os.path.join(args.out, "pam.png")
        plot_pareto(plt, results, pareto)
        plot_pam(plt, pam, pam_png)
    except OSError as e:
        print(f"plot.py: cannot write into {args.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_OTHER

    print_summary(results)
    print(f"wrote {pareto} and {pam_png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
