"""The ``taxi-duration`` command line, one small module per responsibility.

* :mod:`.main`       -- ``main()``: parse, load ``.env.<env>``, run the command, turn known errors
  into one ``error: ...`` line and an exit status (:mod:`.errors`);
* :mod:`.parser`     -- the argparse parser: help formatting (defaults shown), one-line usage errors;
* :mod:`.argtypes`   -- argument types that validate at parse time (months, files, table names, ...);
* :mod:`.errors`     -- the error classes and how known exceptions map to exit statuses;
* :mod:`.model`      -- ``train``, ``predict``, ``check``;
* :mod:`.lifecycle`  -- ``versions``, ``promote``, ``rollback`` (the MLflow registry);
* :mod:`.trips`      -- ``load-trips``, ``score`` (real trips in PostgreSQL, predicted in SQL);
* :mod:`.monitoring` -- ``monitor``, ``report`` (drift monitors).

Nothing here imports numpy, pandas, XGBoost, MLflow or Prefect at module level: each command
imports what it needs when it runs, so ``taxi-duration --help`` stays fast.
"""
