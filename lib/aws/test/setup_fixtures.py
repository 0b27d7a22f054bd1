#!/usr/bin/env python3
"""Publish the fetch tests' fixtures into running servers (tests/lib/servers.py).

    setup_fixtures.py OUT_DIR     (server addresses and keys from the environment)

S3 (boto3, signed with the env's keys), in $TD_MODEL_BUCKET:
  taxi-duration/1/bundle.json    body a.json, x-amz-meta-sha256 = its sha256
  taxi-duration/2/bundle.json    body b.json, x-amz-meta-sha256 = its sha256
  plain/bundle.json              body c.json, no metadata
  corrupt/bundle.json            body c.json, metadata sha256 of something else
  small/bundle.json              4096 bytes (for a max_bytes of 1000)
  big/bundle.json                100 MiB (refused from its Content-Length)
MLflow (REST), registered model "taxi-duration":
  version 1 -> taxi-duration/1 (run r1), version 2 -> taxi-duration/2 (run r2),
  version 3 without tags, version 4 whose bundle_sha256 tag is wrong;
  aliases champion -> 1, unpublished -> 3, tampered -> 4.
Writes OUT_DIR/{a,b,c}.json and OUT_DIR/fixtures.env (TDT_* = run ids).
"""

import hashlib
import json
import os
import sys
import urllib.request

import boto3


def sha(b):
    return hashlib.sha256(b).hexdigest()


def mlflow(path, body):
    req = urllib.request.Request(
        os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/" + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    bucket = os.environ["TD_MODEL_BUCKET"]
    s3 = boto3.client(
        "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"]
    )
    bodies = {
        "a": json.dumps({"format": "taxi-duration-bundle", "v": 1, "pad": "a" * 3000}).encode(),
        "b": json.dumps({"format": "taxi-duration-bundle", "v": 2, "pad": "b" * 5000}).encode(),
        "c": json.dumps({"format": "taxi-duration-bundle", "v": 3}).encode(),
    }
    for name, body in bodies.items():
        with open(os.path.join(out, name + ".json"), "wb") as f:
            f.write(body)

    def put(key, body, meta=None):
        s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=meta or {})

    put("taxi-duration/1/bundle.json", bodies["a"], {"sha256": sha(bodies["a"])})
    put("taxi-duration/2/bundle.json", bodies["b"], {"sha256": sha(bodies["b"])})
    put("plain/bundle.json", bodies["c"])
    put("corrupt/bundle.json", bodies["c"], {"sha256": sha(b"something else")})
    put("small/bundle.json", b"x" * 4096)
    put("big/bundle.json", b"\0" * (100 * 1024 * 1024))

    name = "taxi-duration"
    mlflow("registered-models/create", {"name": name})
    runs = []
    for i in (1, 2):
        run = mlflow("runs/create", {"experiment_id": "0", "run_name": f"r{i}"})
        runs.append(run["run"]["info"]["run_id"])

    def version(tags, run_id=None):
        body = {
            "name": name,
            "source": f"s3://{bucket}/mlflow-artifacts/x",
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        if run_id:
            body["run_id"] = run_id
        return mlflow("model-versions/create", body)["model_version"]["version"]

    v1 = version(
        {
            "bundle_uri": f"s3://{bucket}/taxi-duration/1/bundle.json",
            "bundle_sha256": sha(bodies["a"]),
        },
        runs[0],
    )
    v2 = version(
        {
            "bundle_uri": f"s3://{bucket}/taxi-duration/2/bundle.json",
            "bundle_sha256": sha(bodies["b"]),
        },
        runs[1],
    )
    v3 = version({"note": "registered by hand"})
    v4 = version(
        {
            "bundle_uri": f"s3://{bucket}/taxi-duration/1/bundle.json",
            "bundle_sha256": sha(b"tampered"),
        }
    )
    assert (v1, v2, v3, v4) == ("1", "2", "3", "4"), (v1, v2, v3, v4)
    for alias, v in (("champion", "1"), ("unpublished", "3"), ("tampered", "4")):
        mlflow("registered-models/alias", {"name": name, "alias": alias, "version": v})
    with open(os.path.join(out, "fixtures.env"), "w") as f:
        f.write(f"TDT_RUN_ID_1={runs[0]}\nTDT_RUN_ID_2={runs[1]}\n")


if __name__ == "__main__":
    main()
