"""Benchmark: model rollout — load time from S3 into shared memory against bundle size, and the
time from a registry alias moving to every backend serving the new version.

    bash bench/run_rollout.sh      (starts moto with signature checking, MLflow and a cluster)

Both measured from the client, in one run: a `load_model('s3://...')` call includes the signed
download, the sha256, parsing, validation, compilation and publishing; the rollout time runs from
the alias update (MLflow REST) until each of 4 backends' next statement predicts with the new
version (recognised by its prediction for a fixed trip), with taxi_duration.poll_interval = 1 s.
Memory: the peak RSS (VmHWM in /proc/<pid>/status, so the bench must run on the server's host)
of a fresh backend loading a large bundle, as growth over the session's own and as a ratio to
the bundle's size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "lib"))

from aws_clients import aws_client  # noqa: E402
from big_bundles import scaled_bundle  # noqa: E402

TRIP = "SELECT taxi_duration.predict_duration(130, 205, 3.66, '2021-02-03 08:30')"


def with_unread_member(text: str, total_bytes: int) -> bytes:
    """The bundle with a `training` member (never read by serving) padding it to total_bytes."""
    doc = json.loads(text)
    row = [0.123456, 17.5, 1234, "2021-01-01 00:00:00"]
    one = len(json.dumps(row)) + 1
    doc["training"] = {"rows": [row] * max(1, (total_bytes - len(text)) // one)}
    return json.dumps(doc).encode()


def vm_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def peak_rss_of_load(dsn: str, uri: str) -> tuple[int, int]:
    """(VmHWM before, VmHWM after) in kB of a fresh backend loading `uri`: the peak RSS of the
    loading backend (a fresh connection, so the high-water mark starts at the session's own)."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET taxi_duration.max_bundle_size = '256MB'")
        pid = c.info.backend_pid
        c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)")
        before = vm_kb(pid, "VmHWM")
        c.execute("SELECT * FROM taxi_duration.load_model(%s)", (uri,))
        return before, vm_kb(pid, "VmHWM")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--env", required=True, help="servers.py state env file")
    ap.add_argument("--moves", type=int, default=5)
    args = ap.parse_args()
    env = dict(w.split("=", 1) for w in Path(args.env).read_text().split() if "=" in w)
    s3 = aws_client("s3", env)
    bucket = env["TD_MODEL_BUCKET"]
    mlflow = env["MLFLOW_TRACKING_URI"].rstrip("/") + "/api/2.0/mlflow"

    default = (REPO / "python/taxi_duration_ml/default_bundle.json").read_text()
    bundles = {
        "small (15 trees)": (REPO / "tests/fixtures/bundles/small_xgb.json").read_bytes(),
        "linear": (REPO / "tests/fixtures/bundles/linear.json").read_bytes(),
        "default (600 trees)": default.encode(),
        "default x4 (2400 trees)": scaled_bundle(default, 4),
        "default x16 (9600 trees)": scaled_bundle(default, 16),
    }
    conn = psycopg.connect(args.dsn, autocommit=True)
    conn.execute("SET taxi_duration.max_bundle_size = '256MB'")
    lines = [
        "| bundle | size | load from S3 into shared memory (median of 3) | throughput |",
        "|---|---|---|---|",
    ]
    for name, body in bundles.items():
        key = f"bench/{hashlib.sha256(body).hexdigest()[:12]}/bundle.json"
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, Metadata={"sha256": hashlib.sha256(body).hexdigest()}
        )
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            conn.execute("SELECT * FROM taxi_duration.load_model(%s)", (f"s3://{bucket}/{key}",))
            runs.append(time.perf_counter() - t0)
        t = statistics.median(runs)
        lines.append(
            f"| {name} | {len(body) / 1e6:.2f} MB | {t * 1e3:.0f} ms | {len(body) / 1e6 / t:.1f} MB/s |"
        )

    # peak memory of the loading backend, against the bundle's size
    lines += [
        "",
        "| bundle | size | backend peak RSS during the load (VmHWM growth) | ratio to bundle size |",
        "|---|---|---|---|",
    ]
    for name, body in (
        ("default x16 (9600 trees)", bundles["default x16 (9600 trees)"]),
        ("default + 64 MB unread `training`", with_unread_member(default, 64 * 1024 * 1024 - 4096)),
    ):
        key = f"bench/{hashlib.sha256(body).hexdigest()[:12]}/bundle.json"
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, Metadata={"sha256": hashlib.sha256(body).hexdigest()}
        )
        before, after = peak_rss_of_load(args.dsn, f"s3://{bucket}/{key}")
        grown = (after - before) * 1024
        lines.append(
            f"| {name} | {len(body) / 1e6:.2f} MB | {grown / 1e6:.0f} MB"
            f" (VmHWM {before / 1e3:.0f} → {after / 1e3:.0f} MB) | {grown / len(body):.2f} x |"
        )

    # two registry versions, then move the alias back and forth
    versions = {}
    for v, body in (
        ("a", (REPO / "tests/fixtures/bundles/small_xgb.json").read_bytes()),
        ("b", default.encode()),
    ):
        key = f"taxi-duration-bench/{v}/bundle.json"
        sha = hashlib.sha256(body).hexdigest()
        s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"sha256": sha})
        versions[v] = (key, sha)
    requests.post(
        f"{mlflow}/registered-models/create", json={"name": "bench-model"}
    ).raise_for_status()
    numbers = {}
    for v, (key, sha) in versions.items():
        r = requests.post(
            f"{mlflow}/model-versions/create",
            json={"name": "bench-model", "source": f"s3://{bucket}/{key}"},
        )
        r.raise_for_status()
        n = r.json()["model_version"]["version"]
        numbers[v] = n
        for k, val in (("bundle_uri", f"s3://{bucket}/{key}"), ("bundle_sha256", sha)):
            requests.post(
                f"{mlflow}/model-versions/set-tag",
                json={"name": "bench-model", "version": n, "key": k, "value": val},
            ).raise_for_status()

    def set_alias(v):
        requests.post(
            f"{mlflow}/registered-models/alias",
            json={"name": "bench-model", "alias": "production", "version": numbers[v]},
        ).raise_for_status()

    expected = {}
    for v, (key, _) in versions.items():
        conn.execute("SELECT * FROM taxi_duration.load_model(%s)", (f"s3://{bucket}/{key}",))
        expected[v] = conn.execute(TRIP).fetchone()[0]
    set_alias("a")
    conn.execute("ALTER SYSTEM SET taxi_duration.model_uri = 'models:/bench-model@production'")
    conn.execute("ALTER SYSTEM SET taxi_duration.poll_interval = 1")
    conn.execute("SELECT pg_reload_conf()")
    backends = [psycopg.connect(args.dsn, autocommit=True) for _ in range(4)]

    def wait_all(value, t0, out):
        def one(c, res, i):
            while c.execute(TRIP).fetchone()[0] != value:
                if time.monotonic() - t0 > 30:
                    raise RuntimeError("rollout did not happen within 30 s")
                time.sleep(0.005)
            res[i] = time.monotonic() - t0

        res = [0.0] * len(backends)
        threads = [threading.Thread(target=one, args=(c, res, i)) for i, c in enumerate(backends)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        out.append(max(res))

    t0 = time.monotonic()
    wait_all(expected["a"], t0, [])
    rollouts = []
    target = "b"
    for _ in range(args.moves):
        time.sleep(0.3)
        t0 = time.monotonic()
        set_alias(target)
        wait_all(expected[target], t0, rollouts)
        target = "a" if target == "b" else "b"
    conn.execute("ALTER SYSTEM RESET taxi_duration.model_uri")
    conn.execute("ALTER SYSTEM RESET taxi_duration.poll_interval")
    conn.execute("SELECT pg_reload_conf()")
    lines += [
        "",
        f"Alias moved {args.moves} times between a 0.2 MB and a 2.8 MB bundle, poll interval 1 s,"
        f" 4 backends: time until every backend's next statement used the new version —"
        f" median {statistics.median(rollouts):.2f} s, max {max(rollouts):.2f} s"
        f" (expected about half the poll interval plus one load).",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
