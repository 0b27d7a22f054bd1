"""taxi_duration training pipeline and model-bundle exporter/reader.

The pipeline follows the NYC-taxi trip-duration example of DataTalks.Club's MLOps Zoomcamp
(https://github.com/DataTalksClub/mlops-zoomcamp), "the course" in these docstrings: its 1-60
minute duration filter, its ``PU_DO`` feature (``PULocationID_DOLocationID``) through a
DictVectorizer, early stopping on the validation month.

Modules, by responsibility:

* :mod:`taxi_duration_ml.data`     -- read a TLC green-taxi month and apply the course's duration filter;
* :mod:`taxi_duration_ml.features` -- the per-trip feature dicts (DictVectorizer input) and training augmentation;
* :mod:`taxi_duration_ml.train`    -- fit the DictVectorizer + XGBoost (or linear) estimator;
* :mod:`taxi_duration_ml.bundle`   -- write a bundle (docs/bundle-format.md) and the reference reader ``load_bundle``;
* :mod:`taxi_duration_ml.flow`     -- the Prefect training flow: MLflow run, registry version, S3 publishing, promotion;
* :mod:`taxi_duration_ml.registry` -- MLflow registry + S3 publishing contract, promote / rollback / versions;
* :mod:`taxi_duration_ml.pyfunc_model` -- each registered version as an MLflow pyfunc model wrapping its bundle;
* :mod:`taxi_duration_ml.monitor_flow` -- the Prefect monitoring flow: drift monitors, alerts, HTML pages;
* :mod:`taxi_duration_ml.retries`  -- the retry policy of the Prefect tasks that touch the network;
* :mod:`taxi_duration_ml.deployments` -- cron-scheduled deployments of both flows (``taxi-duration serve``);
* :mod:`taxi_duration_ml.config`   -- ``.env.dev`` / ``.env.prod`` loading (``--env`` / ``TD_ENV``);
* ``taxi-duration``   -- the command line (see :mod:`taxi_duration_ml.__main__`; docs/model-lifecycle.md).
"""

__all__ = ["data", "features", "train", "bundle"]
