"""taxi_duration training pipeline and model-bundle exporter/reader.

Modules, by responsibility:

* :mod:`model.data`     -- read a TLC green-taxi month and apply the course's duration filter;
* :mod:`model.features` -- the per-trip feature dicts (DictVectorizer input) and training augmentation;
* :mod:`model.train`    -- fit the DictVectorizer + XGBoost (or linear) estimator;
* :mod:`model.bundle`   -- write a bundle (docs/bundle-format.md) and the reference reader ``load_bundle``;
* :mod:`model.flow`     -- the Prefect training flow: MLflow run, registry version, S3 publishing, promotion;
* :mod:`model.registry` -- MLflow registry + S3 publishing contract, promote / rollback / versions;
* :mod:`model.config`   -- ``.env.dev`` / ``.env.prod`` loading (``--env`` / ``TD_ENV``);
* ``python -m model``   -- the command line (see :mod:`model.__main__`; docs/model-lifecycle.md).
"""

__all__ = ["data", "features", "train", "bundle"]
