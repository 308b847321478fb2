#!/usr/bin/env python3
"""scripts/eval/plot.py (the figures of make eval) on the fixtures tests/fixtures/eval_*.json.

    eval_plot_test.py [fixture|malformed ...]     no argument: every case

fixture:   both PNGs are written into a fresh temporary directory and the equal-quality
           summary has one line per method, with the values the fixture implies.
malformed: a broken results file, a missing pam file and a pam file with an out-of-range
           column each exit 2, name the file and print no traceback; nothing is written.
Run with the project's Python (.venv/bin/python3); ctest does (CMakeLists.txt).
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLOT = os.path.join(ROOT, "scripts", "eval", "plot.py")
RESULTS = os.path.join(ROOT, "tests", "fixtures", "eval_results.json")
PAM = os.path.join(ROOT, "tests", "fixtures", "eval_pam.json")

# What the fixture implies: the largest computation_removed with
# recall_at_1 >= recall_at_1_fp32 - 0.01 (spatten's 0.840 sits exactly on the line).
EXPECTED = [("fp32", "0.000"), ("int8_dense", "0.000"), ("spls", "0.410"),
            ("sanger", "none"), ("spatten", "0.220")]
HEADER = ("best computation_removed at equal quality "
          "(recall_at_1 >= recall_at_1_fp32 - 0.01):")
LINE = re.compile(r"^  ([a-z0-9_]+): +(-?\d\.\d{3}|none) \((.*)\)$")


def run(*args):
    return subprocess.run([sys.executable, PLOT, *args], capture_output=True, text=True,
                          timeout=120)


def check(cond, what, proc=None):
    if not cond:
        detail = f"\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}" if proc else ""
        raise AssertionError(what + detail)


def case_fixture(tmp):
    out = os.path.join(tmp, "eval")   # not there yet: plot.py makes it
    p = run("--results", RESULTS, "--pam", PAM, "--out", out)
    check(p.returncode == 0, f"exit {p.returncode}, expected 0", p)
    for name in ("pareto.png", "pam.png"):
        path = os.path.join(out, name)
        check(os.path.isfile(path), f"{path} was not written", p)
        with open(path, "rb") as f:
            head = f.read(8)
        check(head == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
        check(os.path.getsize(path) > 5000, f"{path} is suspiciously small")
    lines = p.stdout.splitlines()
    check(HEADER in lines, f"no summary header {HEADER!r}", p)
    body = lines[lines.index(HEADER) + 1:lines.index(HEADER) + 1 + len(EXPECTED)]
    got = []
    for line in body:
        m = LINE.match(line)
        check(m is not None, f"summary line {line!r} does not match {LINE.pattern}", p)
        got.append((m.group(1), m.group(2)))
    check(got == EXPECTED, f"summary {got}, expected {EXPECTED}", p)
    check("k_frac=0.125" in body[2], f"the spls line does not name its setting: {body[2]!r}")
    # stderr may hold matplotlib's notes (building its font cache), never a traceback.
    check("Traceback" not in p.stderr, "a Python traceback was printed", p)


def case_malformed(tmp):
    broken = os.path.join(tmp, "broken_results.json")
    with open(broken, "w") as f:
        f.write('{"rows": [{"method": "spls", "computation_removed": 0.4,')
    bad_pam = os.path.join(tmp, "bad_pam.json")
    with open(PAM) as f:
        text = f.read()
    with open(bad_pam, "w") as f:
        f.write(text.replace("[5, 0]]", "[5, 9]]"))
    missing = os.path.join(tmp, "no_such_pam.json")
    cases = [
        (broken, PAM, "not valid JSON"),
        (RESULTS, missing, "no such file"),
        (RESULTS, bad_pam, "spa[5][1]"),
    ]
    for results, pam, reason in cases:
        out = os.path.join(tmp, "out-" + os.path.basename(results if results != RESULTS
                                                           else pam))
        p = run("--results", results, "--pam", pam, "--out", out)
        bad = results if results != RESULTS else pam
        check(p.returncode == 2, f"{os.path.basename(bad)}: exit {p.returncode}, expected 2", p)
        check(bad in p.stderr, f"the message does not name {bad}", p)
        check(reason in p.stderr, f"the message does not say {reason!r}", p)
        check("Traceback" not in p.stderr, "a Python traceback was printed", p)
        check(not os.path.exists(out), f"{out} was created for a malformed input", p)


CASES = {"fixture": case_fixture, "malformed": case_malformed}


def main(argv):
    names = argv or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"eval_plot_test: unknown case {unknown[0]} (cases: {', '.join(CASES)})",
              file=sys.stderr)
        return 2
    passed = failed = 0
    for name in names:
        with tempfile.TemporaryDirectory(prefix="esact-eval-plot-") as tmp:
            try:
                CASES[name](tmp)
                passed += 1
                print(f"PASS {name}")
            except (AssertionError, subprocess.TimeoutExpired) as e:
                failed += 1
                print(f"FAIL {name}: {e}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
