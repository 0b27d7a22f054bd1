"""Produce Evidently's JSON for every parity dataset pair (cached by input hash).

    python3 tests/monitoring/run_evidently_all.py                       # datasets + all pairs
    python3 tests/monitoring/run_evidently_all.py --data DIR --out DIR -j 2 [--force] [--only a,b]
                                                  [--per-process]
    python3 tests/monitoring/run_evidently_all.py --bench -j 1 --out DIR  # benchmark timings

Plain python3.  Builds the datasets with make_datasets.py if DIR/manifest.json is missing, then runs
evidently_report.py (in the Evidently venv) for each case of the manifest and writes
OUT/<case>.json plus OUT/summary.json.  By default the pairs are split into -j batches, one
Evidently process (one 2.5 s import) per batch; --per-process (and --bench) runs one process per
pair, so that each pair's "total" and "peak_rss_mb" are its own.  A pair is skipped when
OUT/<case>.json exists and its recorded input hash (sha256 of both parquet files, the config,
evidently_report.py and the venv's evidently version) still matches; --force reruns everything.

Then checks the harness itself: Evidently's stattest per column must be the one listed in
EXPECTED_STATTESTS (the auto-choice rules as documented in EVIDENTLY_NOTES.md), cases marked
expect_error must fail and no other case may.  Exit status 1 if any of that does not hold.

Environment: TD_EVIDENTLY_PYTHON (default /opt/td-evidently-venv/bin/python),
TD_MONITORING_DATA (dataset dir, default /tmp/td_monitoring/datasets),
TD_MONITORING_OUT (output dir, default /tmp/td_monitoring/evidently).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = os.environ.get("TD_EVIDENTLY_PYTHON", "/opt/td-evidently-venv/bin/python")

_REAL = {
    "VendorID": "jensenshannon",
    "passenger_count": "wasserstein",
    "payment_type": "jensenshannon",
    "RatecodeID": "wasserstein",
    "trip_type": "jensenshannon",
    "store_and_fwd_flag": "jensenshannon",
    "PULocationID": "wasserstein",
    "DOLocationID": "wasserstein",
    "trip_distance": "wasserstein",
    "fare_amount": "wasserstein",
    "tip_amount": "wasserstein",
    "total_amount": "wasserstein",
    "congestion_surcharge": "jensenshannon",
    "duration": "wasserstein",
    "prediction": "wasserstein",
}

# 06:00-12:00 of 2023-01-09 vs 2023-04-10: 632 reference rows, the small branch.  Nullable
# integers are float64 (numerical): passenger_count U > 5 -> ks, the others U <= 5.
_WINDOW = {
    "VendorID": "z",
    "passenger_count": "ks",
    "payment_type": "chisquare",
    "RatecodeID": "chisquare",
    "trip_type": "z",
    "store_and_fwd_flag": "z",
    "PULocationID": "ks",
    "DOLocationID": "ks",
    "trip_distance": "ks",
    "fare_amount": "ks",
    "tip_amount": "ks",
    "total_amount": "ks",
    "congestion_surcharge": "chisquare",
    "duration": "ks",
    "prediction": "ks",
}

# Evidently's test per column, as the rules in EVIDENTLY_NOTES.md predict them.
EXPECTED_STATTESTS = {
    "native_2023_01_vs_2023_04": _REAL,
    "native_2023_02_vs_2023_03": _REAL,
    # told cat (nullable_integers = "integer"): categorical -> jensenshannon
    "native_2023_01_vs_2023_04_integer": dict(
        _REAL, passenger_count="jensenshannon", RatecodeID="jensenshannon"
    ),
    "native_window_2023_01_09_vs_2023_04_10": _WINDOW,
    "native_window_2023_01_09_vs_2023_04_10_integer": dict(_WINDOW, passenger_count="chisquare"),
    "real_2023_01_vs_2023_02": _REAL,
    "real_2023_01_vs_2023_03": _REAL,
    "real_2021_01_vs_2021_02": _REAL,
    "real_2023_01_vs_2023_02_overrides": dict(
        _REAL,
        passenger_count="jensenshannon",
        payment_type="psi",
        trip_distance="psi",
        fare_amount="kl_div",
        total_amount="jensenshannon",
        tip_amount="ks",
        congestion_surcharge="psi",
        store_and_fwd_flag="kl_div",
    ),
    "ks_exact_equal_n": {"x_same": "ks", "x_shift": "ks", "x_ties": "ks", "x_int": "ks"},
    "ks_exact_small_ref": {"a": "ks", "b": "ks", "ties": "ks", "tiny": "ks"},
    "ks_asymp_large_cur": {"a": "ks", "b": "ks"},
    "few_unique_small_ref": {
        "num_3": "chisquare",
        "num_2": "z",
        "num_5": "chisquare",
        "num_6": "ks",
        "cat_int4": "chisquare",
        "cat_int2": "z",
    },
    "few_unique_large_ref": {
        "num_3": "jensenshannon",
        "num_2": "jensenshannon",
        "num_5": "jensenshannon",
        "num_6": "wasserstein",
        "cat_int4": "jensenshannon",
        "cat_int2": "jensenshannon",
    },
    "binary": {
        "flag_bool": "z",
        "flag_int": "z",
        "flag_text": "z",
        "flag_float": "z",
        "one_sided": "z",
        "const_one": "z",
    },
    "nulls": {
        "f_nan": "wasserstein",
        "t_null": "jensenshannon",
        "i_null": "jensenshannon",
        "nan_cur_only": "wasserstein",
        "mostly_null": "ks",
    },
    "infinity": {"wide": "wasserstein", "inf_cur_only": "wasserstein", "neg_inf": "wasserstein"},
    "infinity_without_nan": {
        "shifted": "wasserstein",
        "ref_inf": "wasserstein",
        "neg_inf_both": "wasserstein",
    },
    "new_category_small_ref": {
        "cat_text": "chisquare",
        "cat_int": "chisquare",
        "ref_only": "chisquare",
    },
    "new_category_large_ref": {
        "cat_text": "jensenshannon",
        "cat_int": "jensenshannon",
        "ref_only": "jensenshannon",
    },
    "constant_small_ref": {
        "const_float": "z",
        "const_int": "z",
        "const_text": "z",
        "const_ref_vary_cur": "ks",
        "const_diff": "z",
    },
    "constant_large_ref": {
        "const_float": "jensenshannon",
        "const_int": "jensenshannon",
        "const_text": "jensenshannon",
        "const_ref_vary_cur": "wasserstein",
        "const_diff": "jensenshannon",
    },
    "text_categorical": {
        "borough": "jensenshannon",
        "zone": "jensenshannon",
        "odd": "jensenshannon",
    },
    "type_inference": {
        "int_50_5": "jensenshannon",
        "int_5_50": "wasserstein",
        "int_10": "jensenshannon",
        "int_11": "wasserstein",
        "int32_64": "wasserstein",
        "str_half": "jensenshannon",
        "float_int3": "jensenshannon",
    },
    "forced_tests": {
        "num_psi": "psi",
        "num_kl": "kl_div",
        "num_js": "jensenshannon",
        "int_psi": "psi",
        "cat_psi": "psi",
        "cat_kl": "kl_div",
        "num_ks": "ks",
        "num_w": "wasserstein",
        "cat_chi": "chisquare",
        "bin_z": "z",
        "num12_js": "jensenshannon",
    },
    "forced_sturges_pow2": {"p": "psi", "k": "kl_div", "j": "jensenshannon", "ks": "ks"},
    "drift_share_boundary": {f"c{i}": "wasserstein" for i in range(4)},
    "drift_share_075": {f"c{i}": "wasserstein" for i in range(4)},
    "regression_edge": {"x": "wasserstein", "y": "wasserstein", "p": "wasserstein"},
    "catalogue_num_real": {
        "trip_distance": "anderson",
        "fare_amount": "cramer_von_mises",
        "total_amount": "ed",
        "tip_amount": "es",
        "PULocationID": "mannw",
        "DOLocationID": "t_test",
        "congestion_surcharge": "hellinger",
        "passenger_count": "hellinger",
    },
    "catalogue_cat_equal_real": {
        "store_and_fwd_flag": "fisher_exact",
        "VendorID": "TVD",
        "payment_type": "g_test",
        "RatecodeID": "hellinger",
    },
    "catalogue_mmd_small": {
        "trip_distance": "empirical_mmd",
        "fare_amount": "mannw",
        "tip_amount": "cramer_von_mises",
    },
    "catalogue_tiny_real": {
        "fare_amount": "cramer_von_mises",
        "total_amount": "es",
        "tip_amount": "anderson",
        "trip_distance": "mannw",
        "PULocationID": "t_test",
        "extra": "ed",
    },
    # free text: abs_ above 1000 reference rows, else perc_
    "text_notes_real": {
        "note": "abs_text_content_drift",
        "trip_distance": "wasserstein",
        "fare_amount": "wasserstein",
    },
    "text_notes_small_real": {
        "note": "perc_text_content_drift",
        "note_abs": "abs_text_content_drift",
        "trip_distance": "ks",
        "fare_amount": "ks",
    },
    "text_forced_type": {"phrase": "abs_text_content_drift", "phrase_cat": "jensenshannon"},
}


def _sha(*paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def evidently_version() -> str:
    r = subprocess.run(
        [
            PYTHON,
            "-c",
            "import importlib.metadata as m; "
            "print(m.version('evidently'), m.version('pandas'), m.version('scipy'), "
            "m.version('numpy'), m.version('scikit-learn'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout.strip()


def input_key(case: dict, versions: str) -> str:
    return hashlib.sha256(
        (
            _sha(case["reference"], case["current"], case["config"], HERE / "evidently_report.py")
            + versions
        ).encode()
    ).hexdigest()


def cached(name: str, case: dict, out_dir: Path, key: str):
    out = out_dir / f"{name}.json"
    if out.exists():
        try:
            prev = json.loads(out.read_text())
            if prev.get("input_hash") == key:
                return {
                    "name": name,
                    "cached": True,
                    "rc": 3 if "error" in prev else 0,
                    "result": prev,
                }
        except ValueError:
            pass
    return None


def _finish(name: str, out: Path, key: str, rc: int, wall: float | None, stderr: str) -> dict:
    if rc not in (0, 3) or not out.exists():
        return {"name": name, "cached": False, "rc": rc, "stderr": stderr[-3000:], "result": None}
    res = json.loads(out.read_text())
    res["input_hash"] = key
    if wall is not None:
        res.setdefault("seconds", {})["process_wall"] = wall
    out.write_text(json.dumps(res, indent=1) + "\n")
    return {"name": name, "cached": False, "rc": 3 if "error" in res else 0, "result": res}


def run_case(name: str, case: dict, out_dir: Path, key: str) -> dict:
    """One process for one pair (clean per-pair timings and peak RSS)."""
    out = out_dir / f"{name}.json"
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    proc = subprocess.run(
        [
            PYTHON,
            str(HERE / "evidently_report.py"),
            "--reference",
            case["reference"],
            "--current",
            case["current"],
            "--config",
            case["config"],
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    return _finish(name, out, key, proc.returncode, time.perf_counter() - t, proc.stderr)


def run_batch(names: list[str], manifest: dict, out_dir: Path, keys: dict) -> list[dict]:
    """One process for several pairs (one import; peak RSS is the process's high-water mark)."""
    jobs = []
    for n in names:
        (out_dir / f"{n}.json").unlink(missing_ok=True)
        jobs.append(
            {
                "reference": manifest[n]["reference"],
                "current": manifest[n]["current"],
                "config": manifest[n]["config"],
                "out": str(out_dir / f"{n}.json"),
            }
        )
    fd, jobs_path = tempfile.mkstemp(prefix="td_ev_batch_", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(jobs, f)
    try:
        proc = subprocess.run(
            [PYTHON, str(HERE / "evidently_report.py"), "--batch", jobs_path],
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(jobs_path)
    return [
        _finish(
            n,
            out_dir / f"{n}.json",
            keys[n],
            0 if (out_dir / f"{n}.json").exists() else proc.returncode,
            None,
            proc.stderr,
        )
        for n in names
    ]


def check(name: str, case: dict, r: dict) -> list[str]:
    problems = []
    res = r.get("result")
    if res is None:
        return [f"{name}: evidently_report.py failed (rc {r['rc']}): {r.get('stderr', '')[-800:]}"]
    if case.get("expect_error"):
        if "error" not in res:
            problems.append(f"{name}: expected Evidently to raise, it did not")
        return problems
    if "error" in res:
        return [f"{name}: Evidently raised {res['error']['type']}: {res['error']['message']}"]
    want = EXPECTED_STATTESTS.get(name, {})
    got = {c: v["stattest"] for c, v in res["columns"].items()}
    for c in sorted(set(want) | set(got)):
        if want.get(c) != got.get(c):
            problems.append(
                f"{name}: column {c}: Evidently chose {got.get(c)}, expected {want.get(c)}"
            )
    return problems


def summary_line(name: str, r: dict) -> str:
    res = r.get("result") or {}
    s = res.get("seconds", {})
    ev = res.get("evidently", {})
    rows = ev.get("rows", {})
    if "error" in res:
        status = "error:" + res["error"]["type"]
    elif res:
        status = (
            f"{res['number_of_drifted_columns']}/{res['number_of_columns']} drifted"
            + (" DATASET" if res["dataset_drift"] else "")
            + ("" if ev.get("consistent", True) else " (inconsistent)")
        )
    else:
        status = "FAILED"
    return (
        f"{name:36} {rows.get('reference', 0):>7} {rows.get('current', 0):>7} "
        f"{s.get('drift_report_run', 0):7.2f} {s.get('regression_report_run', 0):6.2f} "
        f"{s.get('total', 0):6.2f} {res.get('peak_rss_mb', 0):7.0f} "
        f"{'cache' if r.get('cached') else '':5} {status}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", default=os.environ.get("TD_MONITORING_DATA", "/tmp/td_monitoring/datasets")
    )
    ap.add_argument(
        "--out", default=os.environ.get("TD_MONITORING_OUT", "/tmp/td_monitoring/evidently")
    )
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--force", action="store_true", help="ignore the cache")
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument(
        "--bench",
        action="store_true",
        help="only the real-month pairs, one process each, never cached "
        "(implies --per-process --force)",
    )
    ap.add_argument(
        "--per-process",
        action="store_true",
        help="one Evidently process per pair (default: -j batches, one import each)",
    )
    args = ap.parse_args(argv)

    data, out_dir = Path(args.data), Path(args.out)
    manifest_path = data / "manifest.json"
    if not manifest_path.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_datasets.py"), "--out", str(data)], check=True
        )
    manifest = json.loads(manifest_path.read_text())
    names = list(manifest)
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
    if args.bench:
        names = [n for n in names if n.startswith("real_")]
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = evidently_version()

    keys = {n: input_key(manifest[n], versions) for n in names}
    # --bench: always fresh, single-pair processes (a cached batch result has batch timings)
    done = (
        {}
        if (args.force or args.bench)
        else {n: r for n in names if (r := cached(n, manifest[n], out_dir, keys[n])) is not None}
    )
    todo = [n for n in names if n not in done]
    per_process = args.per_process or args.bench
    t0 = time.perf_counter()
    jobs = max(1, args.jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        if per_process:
            for r in pool.map(lambda n: run_case(n, manifest[n], out_dir, keys[n]), todo):
                done[r["name"]] = r
        else:
            # largest pairs first, dealt round-robin, so the batches take about as long
            order = sorted(todo, key=lambda n: -sum(manifest[n]["rows"].values()))
            batches = [order[i::jobs] for i in range(jobs) if order[i::jobs]]
            for rs in pool.map(lambda b: run_batch(b, manifest, out_dir, keys), batches):
                for r in rs:
                    done[r["name"]] = r
    wall = time.perf_counter() - t0
    results = [done[n] for n in names]

    print(f"evidently/pandas/scipy/numpy/sklearn: {versions}")
    print(
        f"{'case':36} {'ref':>7} {'cur':>7} {'drift_s':>7} {'reg_s':>6} {'tot_s':>6} {'rss_MB':>7} "
        f"{'':5} result"
    )
    problems = []
    for name, r in zip(names, results, strict=True):
        print(summary_line(name, r))
        problems += check(name, manifest[name], r)
    print(
        f"wall time for {len(todo)} pairs run ({len(names) - len(todo)} cached), -j {jobs}, "
        f"{'one process per pair' if per_process else 'batched'}: {wall:.1f} s"
    )
    summary = {
        "versions": versions,
        "jobs": jobs,
        "per_process": per_process,
        "wall_seconds": wall,
        "cases": {
            n: {
                "cached": r.get("cached"),
                "rc": r.get("rc"),
                "seconds": (r.get("result") or {}).get("seconds"),
                "peak_rss_mb": (r.get("result") or {}).get("peak_rss_mb"),
                "rows": ((r.get("result") or {}).get("evidently") or {}).get("rows"),
            }
            for n, r in zip(names, results, strict=True)
        },
        "problems": problems,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    for p in problems:
        print(f"PROBLEM: {p}")
    print(
        f"{len(names) - len({p.split(':')[0] for p in problems})} passed, "
        f"{len({p.split(':')[0] for p in problems})} failed"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
