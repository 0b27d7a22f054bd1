"""The taxi-duration command line: train / predict / check end to end on small synthetic months;
help texts and defaults; --help without heavy imports; one-line errors and exit statuses; the
missing-data message; progress bars (only on a terminal, never with --quiet); load-trips and
score against a throwaway cluster with the real 2021-02 trips."""

import fcntl
import functools
import http.server
import json
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from model_testing import DEFAULT_BUNDLE, REPO, synthetic_raw

from taxi_duration_ml import __main__ as cli, bundle
from taxi_duration_ml.cli import model as cli_model, parser as cli_parser

HEAVY = ("numpy", "pandas", "xgboost", "mlflow", "prefect", "sklearn", "scipy", "pyarrow")
COMMANDS = (
    "train",
    "predict",
    "check",
    "versions",
    "promote",
    "rollback",
    "load-trips",
    "score",
    "monitor",
    "report",
    "export-evidently",
    "serve",
)
# what must not leak from the caller into a command's environment (lifecycle, libpq)
CLEARED_PREFIXES = ("MLFLOW_", "TD_", "AWS_", "PREFECT_API", "PG", "TAXI_")


@pytest.fixture()
def synthetic_data_dir(tmp_path, monkeypatch):
    for i, m in enumerate(("2099-01", "2099-02")):
        synthetic_raw(2000, 10 + i, m).to_parquet(
            tmp_path / f"green_tripdata_{m}.parquet", index=False
        )
    monkeypatch.setenv("TAXI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TAXI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def clean_env(tmp_path: Path, **extra) -> dict:
    """The environment of a command run in a subprocess: no lifecycle/libpq/data variables of
    the caller, a private cache, PYTHONPATH to this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
    env["TAXI_CACHE_DIR"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "python"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(*args, env, timeout=300, python_flags=()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "taxi_duration_ml", *map(str, args)],
        env=env,
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_error(p: subprocess.CompletedProcess, status: int, *needles: str) -> str:
    """The command failed with `status` and exactly one stderr line, `error: ...`, no traceback."""
    assert p.returncode == status, (p.returncode, p.stderr[-3000:])
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr[-3000:]
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def closed_port() -> int:
    """A loopback port that nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_on_terminal(args, env, timeout=300) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal (100 columns): (status, stdout, what the
    terminal received)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    p = subprocess.Popen(
        [sys.executable, "-m", "taxi_duration_ml", *map(str, args)],
        env=env,
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out, _ = p.communicate(timeout=timeout)
    return p.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


# -- train / predict / check ----------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ["xgboost", "linear"])
def test_cli_train_predict(synthetic_data_dir, estimator, capsys):
    out = synthetic_data_dir / f"{estimator}.json"
    assert (
        cli.main(
            [
                "train",
                "--train",
                "2099-01",
                "--valid",
                "2099-02",
                "--out",
                str(out),
                "--estimator",
                estimator,
                "--max-rounds",
                "15",
                "--version",
                "7",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "valid RMSE with time" in text and "valid RMSE without time" in text
    b = bundle.load_bundle(out)
    assert b.model["version"] == "7" and b.estimator_type == estimator
    preds = synthetic_data_dir / "preds.csv"
    assert (
        cli.main(["predict", "--bundle", str(out), "--month", "2099-02", "--out", str(preds)]) == 0
    )
    df = pd.read_csv(preds)
    assert list(df.columns) == [
        "PULocationID",
        "DOLocationID",
        "trip_distance",
        "pickup_datetime",
        "duration",
        "prediction",
    ]
    again = b.predict(df[["PULocationID", "DOLocationID", "trip_distance", "pickup_datetime"]])
    if estimator == "xgboost":
        np.testing.assert_array_equal(df["prediction"].to_numpy(np.float32), again)
    assert cli.main(["check", "--bundle", str(out)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["estimator"] == estimator


# -- help -----------------------------------------------------------------------------------------


def _subparsers(p):
    action = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


def test_every_command_and_option_is_described():
    p = cli_parser.build_parser()
    commands = _subparsers(p)
    assert tuple(commands) == COMMANDS
    listed = {c.dest: c.help for c in _subparsers_help(p)}
    for name, sp in commands.items():
        assert sp.description and len(sp.description) > 40, name
        assert listed.get(name), f"{name} has no one-line help in the command list"
        for action in sp._actions:
            assert action.help and action.help.strip(), (name, action.option_strings)


def _subparsers_help(p):
    action = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
    return action._choices_actions


def test_help_shows_descriptions_and_defaults(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    top = capsys.readouterr().out
    for name in COMMANDS:
        assert re.search(rf"^\s+{re.escape(name)}\b", top, re.M), name
    assert "exit status:" in top and "TAXI_DATA_DIR" in top

    def help_of(command: str) -> str:
        with pytest.raises(SystemExit) as e:
            cli.main([command, "--help"])
        assert e.value.code == 0
        return " ".join(capsys.readouterr().out.split())  # unwrapped

    train = help_of("train")
    assert "Without --out, run the training flow" in train
    assert "most boosting rounds (default: 600)" in train
    assert "0: never (default: 30)" in train
    assert "(default: xgboost)" in train
    assert "(default: 3;" in train  # --trials
    assert "(default: 0.15 for --out;" in train and "(default: 8 for --out;" in train
    assert "-q, --quiet no progress bars" in train
    predict = help_of("predict")
    assert "0: all (default: 0)" in predict
    load = help_of("load-trips")
    assert "--month YYYY-MM month (default: 2021-02)" in load
    assert "(default: taxi_trips)" in load and "(default: 1)" in load
    for command in ("load-trips", "score", "monitor", "report", "export-evidently"):
        text = help_of(command)
        assert "--dsn DSN libpq connection string" in text, command
        assert "(default: empty, so libpq's PGHOST, PGPORT, PGDATABASE, PGUSER" in text, command
    for command in ("train", "check", "promote"):
        assert "--dsn" not in help_of(command), command


def test_dsn_defaults_to_the_pg_environment():
    p = cli_parser.build_parser()
    for command in ("load-trips", "score", "monitor"):
        assert p.parse_args([command]).dsn == "", command
    assert p.parse_args(["report", "--monitor", "m", "--out", "x.html"]).dsn == ""


def test_defaults_agree_with_the_library():
    from taxi_duration_ml import flow, train

    assert cli_model.DEFAULT_TRIALS == flow.DEFAULT_TRIALS
    a = cli_parser.build_parser().parse_args(["train", "--train", "2021-01", "--valid", "2021-02"])
    assert (a.max_rounds, a.early_stopping_rounds) == (
        train.DEFAULT_MAX_ROUNDS,
        train.DEFAULT_EARLY_STOPPING,
    )


def test_console_script_is_this_main():
    import tomllib
    from importlib.metadata import entry_points

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"taxi-duration": "taxi_duration_ml.__main__:main"}
    installed = [
        e
        for e in entry_points(group="console_scripts", name="taxi-duration")
        if e.dist.name == "taxi-duration-ml"
    ]
    assert installed and all(e.load() is cli.main for e in installed)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_imports_no_heavy_module(command, tmp_path):
    """`taxi-duration [COMMAND] --help` imports none of numpy, pandas, XGBoost, MLflow, Prefect
    (python -X importtime lists every module a process imports)."""
    args = ["--help"] if command is None else [command, "--help"]
    p = run_cli(*args, env=clean_env(tmp_path), python_flags=("-X", "importtime"))
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.startswith("usage: taxi-duration")
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in p.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "taxi_duration_ml.cli.parser" in imported  # the listing is what we think it is
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert not heavy, f"{' '.join(args)} imported {heavy}"


# -- errors: one line, an exit status, no traceback -----------------------------------------------


@pytest.mark.parametrize(
    "args, needles",
    [
        (["train", "--train", "2021-13", "--valid", "2021-02"], ["--train", "'2021-13'"]),
        (["train", "--train", "2021-1", "--valid", "2021-02"], ["--train", "YYYY-MM"]),
        (
            ["predict", "--bundle", DEFAULT_BUNDLE, "--month", "2021-00", "--out", "x.csv"],
            ["--month"],
        ),
        (["check", "--bundle", "/nonexistent"], ["--bundle", "/nonexistent", "no such file"]),
        (["check"], ["required", "--bundle"]),
        ([], ["required", "COMMAND"]),
        (["no-such-command"], ["invalid choice"]),
        (["load-trips", "--table", "trips; DROP TABLE x"], ["--table"]),
        (["load-trips", "--copies", "0"], ["--copies"]),
        (["export-evidently"], ["required", "--workspace"]),
        (["export-evidently", "--workspace", "w", "--report-id", "0"], ["--report-id"]),
        (
            ["train", "--train", "2021-01", "--valid", "2021-02", "--max-depth", "9"],
            ["--max-depth"],
        ),
        (
            ["train", "--train", "2021-01", "--valid", "2021-02", "--version", "3"],
            ["--version", "--out"],
        ),
        (
            [
                "train",
                "--train",
                "2021-01",
                "--valid",
                "2021-02",
                "--out",
                "b.json",
                "--trials",
                "2",
            ],
            ["--trials"],
        ),
    ],
)
def test_usage_errors(args, needles, tmp_path):
    p = run_cli(*args, env=clean_env(tmp_path))
    assert_one_error(p, 2, *needles)
    assert p.stdout == ""


def test_invalid_bundle_is_status_1(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "taxi-duration-bundle"}')
    line = assert_one_error(run_cli("check", "--bundle", bad, env=clean_env(tmp_path)), 1)
    assert str(bad) in line and "invalid bundle" in line


def test_promote_unknown_version(tmp_path):
    """A version the registry does not have: exit status 1, one line (a fresh local store)."""
    p = run_cli("promote", "--version", "99", env=clean_env(tmp_path), timeout=600)
    assert_one_error(p, 1, "no version 99", "taxi-duration versions")


def test_unreachable_database(tmp_path):
    for command in ("score", "load-trips", "report --monitor m --out x.html"):
        p = run_cli(
            *command.split(),
            "--dsn",
            f"host={tmp_path} port=1",
            env=clean_env(tmp_path, TAXI_DATA_DIR=REPO / "nowhere"),
        )
        if command == "load-trips":  # the month is read first: no data is the error
            assert_one_error(p, 2, "TAXI_DATA_DIR")
        else:
            assert_one_error(p, 1, str(tmp_path))


def test_missing_data_names_the_files_and_where_to_get_them(tmp_path):
    empty = tmp_path / "data"
    empty.mkdir()
    env = clean_env(
        tmp_path, TAXI_DATA_DIR=empty, TAXI_DATA_URL=f"http://127.0.0.1:{closed_port()}/x"
    )
    p = run_cli("train", "--train", "2099-05", "--valid", "2099-06", "--out", "b.json", env=env)
    line = assert_one_error(
        p,
        2,
        f"TAXI_DATA_DIR={empty}",
        "green_tripdata_2099-05.parquet",
        "green_tripdata_2099-06.parquet",
        "https://d37ci6vzurychx.cloudfront.net/trip-data/",
        "Connection refused",
    )
    assert not (tmp_path / "b.json").exists() and "Prefect" not in line
    p = run_cli(
        "predict", "--bundle", DEFAULT_BUNDLE, "--month", "2099-05", "--out", "p.csv", env=env
    )
    assert_one_error(
        p,
        2,
        "TAXI_DATA_DIR=",
        "https://d37ci6vzurychx.cloudfront.net/trip-data/green_tripdata_2099-05.parquet",
    )
    # the training flow checks the data before it starts Prefect or MLflow
    p = run_cli(
        "train", "--train", "2099-05", "--valid", "2099-06", "--no-register", "--local", env=env
    )
    assert_one_error(p, 2, "green_tripdata_2099-05.parquet", "green_tripdata_2099-06.parquet")


# -- downloads and progress bars ------------------------------------------------------------------


@pytest.fixture()
def tlc_mirror(tmp_path):
    """An HTTP server on loopback serving synthetic month files, as the TLC's URL does."""
    root = tmp_path / "mirror"
    root.mkdir()
    synthetic_raw(3000, 7, "2099-07").to_parquet(
        root / "green_tripdata_2099-07.parquet", index=False
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_into_the_cache(tlc_mirror, tmp_path, monkeypatch):
    from taxi_duration_ml import data

    root, url = tlc_mirror
    monkeypatch.setenv("TAXI_DATA_URL", url)
    monkeypatch.setenv("TAXI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TAXI_DATA_DIR", raising=False)
    path = data.month_path("2099-07")
    assert path == tmp_path / "cache" / "green_tripdata_2099-07.parquet"
    assert path.read_bytes() == (root / "green_tripdata_2099-07.parquet").read_bytes()
    with pytest.raises(data.MissingDataError) as e:  # the mirror has no 2099-08: HTTP 404
        data.month_path("2099-08")
    assert "404" in str(e.value) and e.value.files == ["green_tripdata_2099-08.parquet"]
    assert not list((tmp_path / "cache").glob("*.part"))


def test_progress_bars_only_on_a_terminal(tlc_mirror, synthetic_data_dir, tmp_path):
    _, url = tlc_mirror
    model = synthetic_data_dir / "m.json"
    env = clean_env(tmp_path, TAXI_DATA_DIR=synthetic_data_dir, TAXI_DATA_URL=url)
    train = ["train", "--train", "2099-01", "--valid", "2099-02", "--out", model]
    train += ["--max-rounds", "7", "--early-stopping-rounds", "0"]
    status, out, term = run_on_terminal(train, env)
    assert status == 0 and "valid RMSE with time" in out, term
    assert "boosting" in term and "/7 [" in term and "valid RMSE" in term, term
    status, out, term = run_on_terminal([*train, "--quiet"], env)
    assert status == 0 and "valid RMSE with time" in out
    assert term == "", term
    p = run_cli(*train, env=env)  # stderr is a pipe: no bar
    assert p.returncode == 0 and p.stderr == "", p.stderr
    # a download draws its own bar (bytes)
    predict = ["predict", "--bundle", model, "--month", "2099-07", "--out", tmp_path / "p.csv"]
    status, _, term = run_on_terminal(predict, env)
    assert status == 0, term
    assert "green_tripdata_2099-07.parquet" in term and "%|" in term, term


# -- load-trips and score against a cluster -------------------------------------------------------


def test_load_trips_and_score(make_cluster, data_dir, trips_2021_02, tmp_path):
    c = make_cluster()
    env = clean_env(tmp_path, TAXI_DATA_DIR=data_dir)
    p = run_cli("load-trips", "--dsn", c.dsn(), "--table", "public.trips", "--copies", "2", env=env)
    assert p.returncode == 0 and p.stderr == "", p.stderr[-3000:]
    n = len(trips_2021_02)
    assert p.stdout == f"{2 * n}\n"
    rows = c.sql(
        "SELECT count(DISTINCT ride_id), min(ride_id), max(ride_id), sum(duration) FROM trips"
    )
    assert rows[0][:3] == (2 * n, 0, 2 * n - 1)
    assert rows[0][3] == pytest.approx(2 * trips_2021_02["duration"].sum(), rel=1e-12)
    # the second copy repeats the first with ride ids shifted by n; values are exact
    for i in (0, n - 1, n // 2):
        got = c.sql(
            "SELECT lpep_pickup_datetime, pulocationid, dolocationid, trip_distance, duration "
            "FROM trips WHERE ride_id IN (%s, %s) ORDER BY ride_id",
            (i, i + n),
        )
        want = trips_2021_02.iloc[i]
        assert got[0] == got[1]
        assert got[0][0] == want["lpep_pickup_datetime"].to_pydatetime()
        assert got[0][1:] == (
            want["PULocationID"],
            want["DOLocationID"],
            want["trip_distance"],
            want["duration"],
        )
    # load-trips again: the table is re-created
    p = run_cli("load-trips", "--dsn", c.dsn(), "--table", "trips", env=env)
    assert p.returncode == 0 and p.stdout == f"{n}\n", p.stderr[-3000:]

    # score with no --dsn: libpq's PG* environment
    host, port = c.hosts()
    pg = dict(PGHOST=host, PGPORT=port, PGUSER="postgres", PGDATABASE="postgres")
    p = run_cli("score", "--table", "trips", env={**env, **pg})
    assert p.returncode == 0 and p.stderr == "", p.stderr[-3000:]
    lines = p.stdout.splitlines()
    assert len(lines) == 3, p.stdout
    m = re.fullmatch(r"model: (\S+) (\S+) \((\d+) trees\) from (file://(\S+))", lines[0])
    assert m, lines[0]
    served = bundle.load_bundle(m.group(5))
    assert (m.group(1), m.group(2)) == (served.model["name"], served.model["version"])
    frame = trips_2021_02.rename(columns={"lpep_pickup_datetime": "pickup_datetime"})
    cols = ["PULocationID", "DOLocationID", "trip_distance"]
    y = trips_2021_02["duration"].to_numpy()
    for line, label, inputs in (
        (lines[1], "    with pickup time", [*cols, "pickup_datetime"]),
        (lines[2], " without pickup time", cols),
    ):
        m = re.fullmatch(
            rf"{label}: (\d+) trips, RMSE (\d+\.\d{{3}}) min, [\d,]+ rows/s \(\d+\.\d\d s\)",
            line,
        )
        assert m, line
        assert int(m.group(1)) == n
        pred = served.predict(frame[inputs]).astype(np.float64)
        assert float(m.group(2)) == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)), abs=6e-4)
    # a table that does not exist: one line, status 1
    p = run_cli("score", "--table", "no_such_table", env={**env, **pg})
    assert_one_error(p, 1, "no_such_table")
