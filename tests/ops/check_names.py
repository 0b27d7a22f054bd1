#!/usr/bin/env python3
"""Check that the deployment names agree everywhere they are written down.

The contract:

  streams, region, environments   fixed by convention (CONVENTION below): <env>_taxi_trip_events,
                                  <env>_taxi_predictions, eu-north-1, stg and prod; the code,
                                  template.yaml and terraform/variables.tf rely on them
  model bucket                    chosen per environment in terraform/vars/<env>.tfvars
                                  (model_bucket_name: rll-models-dev, rll-models-prod here; S3
                                  bucket names are global, so a deployment of its own picks its
                                  own), must follow S3's naming rules (as terraform/variables.tf
                                  checks), and every other file must name the same bucket

Sources (paths relative to --root, the repository root by default):

  .env.dev / .env.prod        TD_MODEL_BUCKET, TD_TRIPS_STREAM, TD_PREDICTIONS_STREAM,
                              AWS_REGION, TD_MODEL_NAME
  terraform/vars/<env>.tfvars model_bucket_name, trips_stream_name, predictions_stream_name,
                              aws_region, lambda_function_name, model_name, batch_size,
                              maximum_retry_attempts (parsed with python-hcl2)
  terraform/main.tf           the DLQ name (locals.dlq_name)
  terraform/modules/lambda    the event-source mapping's settings
  template.yaml               every name, resolved for Env = stg and Env = prod: the bucket
                              mapping, TD_MODEL_URI, FunctionName, log group, PREDICTIONS_STREAM,
                              the event source and the IAM resources, the DLQ and the
                              OnFailure destination, the outputs; and the mapping's settings
  lambda/Dockerfile           the default PREDICTIONS_STREAM (the stg one)
  docker-compose.local.yaml   if present: its services must use .env.dev's bucket and streams

stg pairs with .env.dev and prod with .env.prod.  Every comparison is printed; the exit
status is 1 if any value differs or cannot be found.

    python3 tests/ops/check_names.py [--root DIR]

python-hcl2 comes from /opt/td-ops-venv/isolated/python-hcl2 (tests/ops/install-iac.sh),
kept apart from checkov's own fork of the same `hcl2` module.
"""

import argparse
import os
import re
import sys

HCL2_DIRS = [
    os.environ.get("TD_HCL2_PATH", ""),
    os.path.join(os.environ.get("TD_OPS_VENV", "/opt/td-ops-venv"), "isolated", "python-hcl2"),
]
for _d in HCL2_DIRS:
    if _d and os.path.isdir(_d):
        sys.path.insert(0, _d)
        break

import hcl2  # noqa: E402  (python-hcl2)
import yaml  # noqa: E402

# The names fixed by convention (the model bucket is not: see the module's docstring).
CONVENTION = {
    "region": "eu-north-1",
    "envs": ["stg", "prod"],
    "stg": {
        "trips": "stg_taxi_trip_events",
        "predictions": "stg_taxi_predictions",
    },
    "prod": {
        "trips": "prod_taxi_trip_events",
        "predictions": "prod_taxi_predictions",
    },
}
ENV_FILE = {"stg": ".env.dev", "prod": ".env.prod"}
NAMES = {"bucket": "model bucket", "trips": "trips stream", "predictions": "predictions stream"}
ENV_KEYS = {
    "bucket": "TD_MODEL_BUCKET",
    "trips": "TD_TRIPS_STREAM",
    "predictions": "TD_PREDICTIONS_STREAM",
}
MISSING = object()


def s3_name_problem(name):
    """Why NAME is not a valid S3 bucket name (terraform/variables.tf's rules), or None."""
    if not isinstance(name, str):
        return "is not a string"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name):
        return "is not 3-63 of a-z, 0-9, '.' and '-' with a letter or digit at each end"
    if ".." in name:
        return "contains '..'"
    if re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", name):
        return "is formatted as an IP address"
    if re.match(r"(xn--|sthree-)", name) or re.search(r"(-s3alias|--ol-s3)$", name):
        return "has a prefix or suffix S3 reserves"
    if "." in name:
        return "contains a dot (the bundle loaders reach S3 virtual-host style over TLS)"
    return None


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def compare(self, what, pairs):
        """pairs: [(source, value)]; all values must be equal to the first."""
        ref_src, ref = pairs[0]
        for src, val in pairs[1:]:
            ok = val is not MISSING and ref is not MISSING and val == ref
            self.line(ok, "%s: %s = %s  vs  %s = %s" % (what, ref_src, show(ref), src, show(val)))

    def check(self, ok, text):
        self.line(ok, text)

    def line(self, ok, text):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("%s %s" % ("ok  " if ok else "FAIL", text))

    def note(self, text):
        print("     " + text)


def show(v):
    return "<missing>" if v is MISSING else repr(v)


# ---- readers -------------------------------------------------------------------


def read_env_file(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            if line.startswith("export "):
                line = line[len("export ") :]
            k, v = line.split("=", 1)
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            out[k.strip()] = v
    return out


def unquote(x):
    """python-hcl2 keeps the quotes of string literals and block labels."""
    if isinstance(x, str):
        if len(x) >= 2 and x[0] == '"' and x[-1] == '"':
            return x[1:-1]
        return x
    if isinstance(x, list):
        return [unquote(i) for i in x]
    if isinstance(x, dict):
        return {unquote(k): unquote(v) for k, v in x.items() if k != "__comments__"}
    return x


def read_hcl(path):
    with open(path, encoding="utf-8") as f:
        return unquote(hcl2.load(f))


class CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation's short-form tags as Fn:: dicts."""


def _cfn_tag(loader, tag_suffix, node):
    name = {"Ref": "Ref", "Condition": "Condition"}.get(tag_suffix, "Fn::" + tag_suffix)
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


class Cfn:
    """Resolves the few intrinsic functions template.yaml uses, for one Env."""

    def __init__(self, doc, env):
        self.doc = doc
        self.params = {k: v.get("Default") for k, v in doc.get("Parameters", {}).items()}
        self.params["Env"] = env
        self.params.update(
            {"AWS::Partition": "aws", "AWS::Region": "REGION", "AWS::AccountId": "ACCOUNT"}
        )

    def resolve(self, x, local=None):
        local = local or {}
        if isinstance(x, dict) and len(x) == 1:
            ((k, v),) = x.items()
            if k == "Ref":
                if v in local:
                    return local[v]
                if v in self.params:
                    return self.params[v]
                return {"Ref": v}
            if k == "Fn::Sub":
                if isinstance(v, list):
                    text, extra = v[0], {n: self.resolve(e, local) for n, e in v[1].items()}
                else:
                    text, extra = v, {}
                scope = dict(self.params)
                scope.update(local)
                scope.update(extra)

                def sub(m):
                    name = m.group(1)
                    if name in scope and isinstance(scope[name], (str, int)):
                        return str(scope[name])
                    return m.group(0)

                return re.sub(r"\$\{([A-Za-z0-9:.]+)\}", sub, text)
            if k == "Fn::FindInMap":
                m, a, b = (self.resolve(i, local) for i in v)
                return self.doc["Mappings"][m][a][b]
        if isinstance(x, list):
            return [self.resolve(i, local) for i in x]
        if isinstance(x, dict):
            return {k: self.resolve(v, local) for k, v in x.items()}
        return x


def get(d, *path):
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        elif isinstance(d, list) and isinstance(p, int) and p < len(d):
            d = d[p]
        else:
            return MISSING
    return d


def arn_stream(arn):
    if not isinstance(arn, str) or ":stream/" not in arn:
        return MISSING
    return arn.rsplit(":stream/", 1)[1]


def s3_bucket(uri_or_arn):
    if not isinstance(uri_or_arn, str):
        return MISSING
    m = re.match(r"^(?:s3://|arn:[^:]*:s3:::)([^/]+)/", uri_or_arn)
    return m.group(1) if m else MISSING


def policy_resource(policies, sid):
    for p in policies if isinstance(policies, list) else []:
        for st in get(p, "Statement") if isinstance(get(p, "Statement"), list) else []:
            if st.get("Sid") == sid:
                return st.get("Resource", MISSING)
    return MISSING


# ---- the checks ----------------------------------------------------------------


def check_env(rep, root, env, tfvars, tf_main, doc, envfile):
    fixed = CONVENTION[env]
    efile = ENV_FILE[env]
    tfv = "terraform/vars/%s.tfvars" % env
    cfn = Cfn(doc, env)
    res = doc.get("Resources", {})
    fn = cfn.resolve(get(res, "TripPredictionFunction", "Properties"))
    ev = get(fn, "Events", "TripEvents", "Properties")
    pol = get(fn, "Policies")
    dlq = cfn.resolve(get(res, "TripPredictionDLQ", "Properties"))
    lg = cfn.resolve(get(res, "TripPredictionLogGroup", "Properties"))
    outs = cfn.resolve(doc.get("Outputs", {}))
    T = "template.yaml[Env=%s]" % env

    print("\n== %s: convention <-> %s <-> %s <-> template.yaml" % (env, efile, tfv))
    rep.compare(
        "%s region" % env,
        [
            ("convention", CONVENTION["region"]),
            ("%s AWS_REGION" % efile, envfile.get("AWS_REGION", MISSING)),
            ("%s aws_region" % tfv, tfvars.get("aws_region", MISSING)),
        ],
    )
    bucket = tfvars.get("model_bucket_name", MISSING)
    problem = s3_name_problem(bucket) if bucket is not MISSING else "missing"
    rep.check(
        problem is None,
        "%s model bucket: %s model_bucket_name = %s is a valid S3 bucket name%s"
        % (env, tfv, show(bucket), "" if problem is None else " (it %s)" % problem),
    )
    rep.compare(
        "%s model bucket" % env,
        [
            ("%s model_bucket_name" % tfv, bucket),
            ("%s TD_MODEL_BUCKET" % efile, envfile.get("TD_MODEL_BUCKET", MISSING)),
            (
                "%s Mappings.EnvMap.%s.Bucket" % (T, env),
                get(doc, "Mappings", "EnvMap", env, "Bucket"),
            ),
            (
                "%s TD_MODEL_URI bucket" % T,
                s3_bucket(get(fn, "Environment", "Variables", "TD_MODEL_URI")),
            ),
            (
                "%s ReadModelBundles resource bucket" % T,
                s3_bucket(policy_resource(pol, "ReadModelBundles")),
            ),
        ],
    )
    rep.compare(
        "%s trips stream" % env,
        [
            ("convention <env>_taxi_trip_events", fixed["trips"]),
            ("%s TD_TRIPS_STREAM" % efile, envfile.get("TD_TRIPS_STREAM", MISSING)),
            ("%s trips_stream_name" % tfv, tfvars.get("trips_stream_name", MISSING)),
            ("%s Events.TripEvents.Stream" % T, arn_stream(get(ev, "Stream"))),
            ("%s ReadTripEvents resource" % T, arn_stream(policy_resource(pol, "ReadTripEvents"))),
            ("%s Outputs.TripsStream" % T, get(outs, "TripsStream", "Value")),
        ],
    )
    pred = [
        ("convention <env>_taxi_predictions", fixed["predictions"]),
        ("%s TD_PREDICTIONS_STREAM" % efile, envfile.get("TD_PREDICTIONS_STREAM", MISSING)),
        ("%s predictions_stream_name" % tfv, tfvars.get("predictions_stream_name", MISSING)),
        ("%s PREDICTIONS_STREAM" % T, get(fn, "Environment", "Variables", "PREDICTIONS_STREAM")),
        (
            "%s WritePredictionEvents resource" % T,
            arn_stream(policy_resource(pol, "WritePredictionEvents")),
        ),
        ("%s Outputs.PredictionsStream" % T, get(outs, "PredictionsStream", "Value")),
    ]
    if env == "stg":
        pred.append(
            ("lambda/Dockerfile ENV PREDICTIONS_STREAM", dockerfile_env(root, "PREDICTIONS_STREAM"))
        )
    rep.compare("%s predictions stream" % env, pred)

    fname = tfvars.get("lambda_function_name", MISSING)
    log_group = get(lg, "LogGroupName")
    rep.compare(
        "%s function name" % env,
        [
            ("%s lambda_function_name" % tfv, fname),
            ("%s FunctionName" % T, get(fn, "FunctionName")),
            (
                "%s log group /aws/lambda/<name>" % T,
                log_group[len("/aws/lambda/") :]
                if isinstance(log_group, str) and log_group.startswith("/aws/lambda/")
                else MISSING,
            ),
        ],
    )
    dlq_expr = get(tf_main, "locals", 0, "dlq_name")
    tf_dlq = (
        dlq_expr.replace("${var.lambda_function_name}", fname)
        if isinstance(dlq_expr, str) and isinstance(fname, str)
        else MISSING
    )
    rep.compare(
        "%s dead-letter queue" % env,
        [
            ("terraform/main.tf locals.dlq_name", tf_dlq),
            ("%s TripPredictionDLQ.QueueName" % T, get(dlq, "QueueName")),
        ],
    )
    rep.compare(
        "%s on-failure destination" % env,
        [
            ("%s TripPredictionDLQ" % T, ["TripPredictionDLQ", "Arn"]),
            (
                "%s Events.TripEvents.DestinationConfig.OnFailure" % T,
                get(ev, "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt"),
            ),
        ],
    )
    key = get(doc, "Parameters", "ModelKey", "Default")
    rep.compare(
        "%s model name (bundle prefix)" % env,
        [
            ("%s TD_MODEL_NAME" % efile, envfile.get("TD_MODEL_NAME", MISSING)),
            ("%s model_name" % tfv, tfvars.get("model_name", MISSING)),
            (
                "template.yaml ModelKey default prefix",
                key.split("/", 1)[0] if isinstance(key, str) else MISSING,
            ),
            (
                "%s ReadModelBundles prefix" % T,
                (
                    policy_resource(pol, "ReadModelBundles").split(":::", 1)[1].split("/")[1]
                    if isinstance(policy_resource(pol, "ReadModelBundles"), str)
                    else MISSING
                ),
            ),
        ],
    )
    rep.compare(
        "%s batch size" % env,
        [
            ("%s batch_size" % tfv, tfvars.get("batch_size", MISSING)),
            ("template.yaml BatchSize default", get(doc, "Parameters", "BatchSize", "Default")),
        ],
    )
    rep.compare(
        "%s retries" % env,
        [
            ("%s maximum_retry_attempts" % tfv, tfvars.get("maximum_retry_attempts", MISSING)),
            ("template.yaml MaximumRetryAttempts", get(ev, "MaximumRetryAttempts")),
        ],
    )
    return ev


def check_mapping_settings(rep, tf_lambda, ev):
    print("\n== event-source mapping: terraform/modules/lambda <-> template.yaml")
    esm = MISSING
    for r in tf_lambda.get("resource", []):
        if "aws_lambda_event_source_mapping" in r:
            esm = r["aws_lambda_event_source_mapping"].get("trips", MISSING)
    tf = "terraform/modules/lambda"
    rep.compare(
        "function response types",
        [
            ("%s function_response_types" % tf, get(esm, "function_response_types")),
            ("template.yaml FunctionResponseTypes", get(ev, "FunctionResponseTypes")),
            ("required (docs/streaming.md)", ["ReportBatchItemFailures"]),
        ],
    )
    rep.compare(
        "bisect on function error",
        [
            ("%s bisect_batch_on_function_error" % tf, get(esm, "bisect_batch_on_function_error")),
            ("template.yaml BisectBatchOnFunctionError", get(ev, "BisectBatchOnFunctionError")),
            ("required", True),
        ],
    )
    rep.compare(
        "starting position",
        [
            ("%s starting_position" % tf, get(esm, "starting_position")),
            ("template.yaml StartingPosition", get(ev, "StartingPosition")),
        ],
    )
    rep.compare(
        "on-failure destination",
        [
            (
                "%s destination_config.on_failure" % tf,
                get(esm, "destination_config", 0, "on_failure", 0, "destination_arn"),
            ),
            ("the module's SQS queue", "${aws_sqs_queue.dlq.arn}"),
        ],
    )


def dockerfile_env(root, name):
    path = os.path.join(root, "lambda", "Dockerfile")
    if not os.path.exists(path):
        return MISSING
    text = open(path, encoding="utf-8").read().replace("\\\n", " ")
    m = re.search(r"(?m)^ENV\s.*?\b%s=(\S+)" % re.escape(name), text)
    return m.group(1).strip("\"'") if m else MISSING


INTERP = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(value, env):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR with .env.dev as the environment."""
    return INTERP.sub(
        lambda m: env.get(
            m.group(1) or m.group(4), m.group(3) if m.group(2) in (":-", "-") else ""
        ),
        value,
    )


def strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, list):
        for i in x:
            yield from strings(i)
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from strings(k)
            yield from strings(v)


def check_compose(rep, root, dev):
    print("\n== docker-compose.local.yaml <-> .env.dev")
    path = None
    for name in ("docker-compose.local.yaml", "docker-compose.local.yml"):
        if os.path.exists(os.path.join(root, name)):
            path = os.path.join(root, name)
    if path is None:
        rep.note("docker-compose.local.yaml: not present, nothing to compare")
        return
    rel = os.path.relpath(path, root)
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f) or {}
    services = compose.get("services") or {}
    referenced = {k: [] for k in NAMES}
    wanted = {k: dev.get(ENV_KEYS[k], MISSING) for k in NAMES}
    keys = {
        "TD_MODEL_BUCKET": "bucket",
        "TD_TRIPS_STREAM": "trips",
        "TD_PREDICTIONS_STREAM": "predictions",
        "PREDICTIONS_STREAM": "predictions",
    }
    for sname, svc in services.items():
        svc = svc or {}
        env_files = svc.get("env_file") or []
        if isinstance(env_files, (str, dict)):
            env_files = [env_files]
        for ef in env_files:
            efp = ef.get("path") if isinstance(ef, dict) else ef
            if isinstance(efp, str) and os.path.normpath(
                os.path.join(os.path.dirname(path), efp)
            ) == os.path.normpath(os.path.join(root, ".env.dev")):
                for k in NAMES:
                    referenced[k].append("%s env_file .env.dev" % sname)
        environment = svc.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(e.split("=", 1) if "=" in e else (e, MISSING) for e in environment)
        for var, raw in environment.items():
            if raw is MISSING or raw is None:
                # "- TD_TRIPS_STREAM": passed through from the environment (.env.dev via --env-file)
                if var in keys:
                    referenced[keys[var]].append("%s %s (from the environment)" % (sname, var))
                continue
            raw = str(raw)
            if var in keys:
                k = keys[var]
                rep.compare(
                    "compose %s.%s" % (sname, var),
                    [
                        (".env.dev %s" % ENV_KEYS[k], wanted[k]),
                        (
                            "%s services.%s.environment.%s" % (rel, sname, var),
                            interpolate(raw, dev),
                        ),
                    ],
                )
                referenced[k].append("%s %s" % (sname, var))
            if var == "TD_MODEL_URI" and interpolate(raw, dev).startswith("s3://"):
                rep.compare(
                    "compose %s.TD_MODEL_URI bucket" % sname,
                    [
                        (".env.dev TD_MODEL_BUCKET", wanted["bucket"]),
                        (
                            "%s services.%s TD_MODEL_URI" % (rel, sname),
                            s3_bucket(interpolate(raw, dev)),
                        ),
                    ],
                )
                referenced["bucket"].append("%s TD_MODEL_URI" % sname)
    # Defaults written into ${TD_X:-default} and any literal name anywhere in the file
    # (commands creating streams and buckets, healthchecks, ...).
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(
        r"\$\{(TD_MODEL_BUCKET|TD_TRIPS_STREAM|TD_PREDICTIONS_STREAM|PREDICTIONS_STREAM)"
        r":?-([^}]*)\}",
        text,
    ):
        k = keys[m.group(1)]
        rep.compare(
            "compose default of ${%s}" % m.group(1),
            [
                (".env.dev %s" % ENV_KEYS[k], wanted[k]),
                ("%s default" % rel, m.group(2)),
            ],
        )
    patterns = {
        "trips": r"\b[A-Za-z0-9]+_taxi_trip_events\b",
        "predictions": r"\b[A-Za-z0-9]+_taxi_predictions\b",
        # s3://<bucket> anywhere, and this project's default names written out
        "bucket": r"(?<=s3://)[a-z0-9][a-z0-9.-]*[a-z0-9]|\brll-models-[a-z0-9-]+\b",
    }
    found = set()
    for s in strings(services):
        s = interpolate(s, dev)
        for k, pat in patterns.items():
            found.update((k, lit) for lit in re.findall(pat, s))
    for k, lit in sorted(found):
        rep.compare(
            "compose value %s (after interpolation)" % NAMES[k],
            [
                (".env.dev %s" % ENV_KEYS[k], wanted[k]),
                (rel, lit),
            ],
        )
        referenced[k].append("value %s" % lit)
    for k in NAMES:
        rep.check(
            bool(referenced[k]),
            "compose references .env.dev's %s (%s): %s"
            % (NAMES[k], ENV_KEYS[k], "; ".join(sorted(set(referenced[k]))) or "nowhere"),
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    )
    args = ap.parse_args()
    root = args.root
    rep = Report()

    def load(what, fn, *a):
        try:
            return fn(*a)
        except Exception as e:  # noqa: BLE001 - any unreadable source is a failed check
            rep.check(False, "cannot read %s: %s" % (what, e))
            return {}

    envs = {e: load(ENV_FILE[e], read_env_file, os.path.join(root, ENV_FILE[e])) for e in ENV_FILE}
    tfvars = {
        e: load(
            "terraform/vars/%s.tfvars" % e,
            read_hcl,
            os.path.join(root, "terraform", "vars", "%s.tfvars" % e),
        )
        for e in ENV_FILE
    }
    tf_main = load("terraform/main.tf", read_hcl, os.path.join(root, "terraform", "main.tf"))
    tf_lambda = load(
        "terraform/modules/lambda/main.tf",
        read_hcl,
        os.path.join(root, "terraform", "modules", "lambda", "main.tf"),
    )
    doc = load(
        "template.yaml",
        lambda p: yaml.load(open(p, encoding="utf-8"), Loader=CfnLoader),
        os.path.join(root, "template.yaml"),
    )

    allowed = get(doc, "Parameters", "Env", "AllowedValues")
    rep.compare(
        "environments",
        [
            ("convention", CONVENTION["envs"]),
            ("template.yaml Env AllowedValues", allowed),
            ("terraform/vars/*.tfvars env", [tfvars["stg"].get("env"), tfvars["prod"].get("env")]),
        ],
    )
    ev = None
    for env in ("stg", "prod"):
        ev = check_env(rep, root, env, tfvars[env], tf_main, doc, envs[env])
    check_mapping_settings(rep, tf_lambda, ev)
    check_compose(rep, root, envs["stg"])

    print("\n%d passed, %d failed" % (rep.passed, rep.failed))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
