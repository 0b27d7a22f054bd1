"""A Python Lambda handler in the style of the MLOps Zoomcamp's streaming example
("the course": base64 -> json -> predict -> Kinesis), serving the SAME bundle as the C
bootstrap through taxi_duration_ml.bundle.

Only a benchmark baseline for bench/bench_streaming.sh; run it under the AWS
Lambda Runtime Interface Emulator with awslambdaric:

    aws-lambda-rie python3 -m awslambdaric lambda_function.lambda_handler

Environment: TD_MODEL_URI (file://...), PREDICTIONS_STREAM, TEST_RUN, and the
standard AWS_* variables (AWS_ENDPOINT_URL for moto).  The repository root must
be on PYTHONPATH (for taxi_duration_ml.bundle).

Each invocation logs to stderr, as the C bootstrap does, the time of its decode + predict
part (everything before the Kinesis entries are built), which bench_streaming.py parses:
    INFO 1000 records: predict 12.34 ms
"""

import base64
import json
import os
import sys
import time

import boto3

from taxi_duration_ml.bundle import load_bundle

MODEL_URI = os.getenv("TD_MODEL_URI", "")
PREDICTIONS_STREAM = os.getenv("PREDICTIONS_STREAM", "stg_taxi_predictions")
TEST_RUN = os.getenv("TEST_RUN", "False") == "True"

# cold start: model and client once per container, as in the Zoomcamp's example
_path = MODEL_URI[len("file://") :] if MODEL_URI.startswith("file://") else MODEL_URI
bundle = load_bundle(_path)
with open(_path) as f:
    _meta = json.load(f)["model"]
MODEL_NAME, MODEL_VERSION = _meta["name"], _meta["version"]
kinesis_client = boto3.client("kinesis")


def lambda_handler(event, context):
    t0 = time.perf_counter()
    failures, rides, ids = [], [], []
    for record in event["Records"]:
        try:
            ride_event = json.loads(base64.b64decode(record["kinesis"]["data"]).decode("utf-8"))
            ride = ride_event["ride"]
            ride_id = ride_event["ride_id"]
        except (ValueError, KeyError, TypeError):
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
            continue
        rides.append(ride)
        ids.append(ride_id)

    predictions = bundle.predict(rides) if rides else []
    events = [
        {
            "model": MODEL_NAME,
            "version": MODEL_VERSION,
            "prediction": {"ride_duration": float(p), "ride_id": rid},
        }
        for rid, p in zip(ids, predictions, strict=True)
    ]
    predict_ms = (time.perf_counter() - t0) * 1000
    print(
        f"INFO {len(event['Records'])} records: predict {predict_ms:.2f} ms",
        file=sys.stderr,
        flush=True,
    )
    if TEST_RUN:
        return {"predictions": events, "batchItemFailures": failures}

    entries = [
        {"Data": json.dumps(e), "PartitionKey": str(e["prediction"]["ride_id"])} for e in events
    ]
    for k in range(0, len(entries), 500):
        chunk = entries[k : k + 500]
        while chunk:
            resp = kinesis_client.put_records(StreamName=PREDICTIONS_STREAM, Records=chunk)
            chunk = [e for e, r in zip(chunk, resp["Records"], strict=False) if "ErrorCode" in r]
    return {"batchItemFailures": failures}
