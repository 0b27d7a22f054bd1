"""taxi_duration training pipeline and model-bundle exporter/reader.

Modules, by responsibility:

* :mod:`model.data`     -- read a TLC green-taxi month and apply the course's duration filter;
* :mod:`model.features` -- the per-trip feature dicts (DictVectorizer input) and training augmentation;
* :mod:`model.train`    -- fit the DictVectorizer + XGBoost (or linear) estimator;
* :mod:`model.bundle`   -- write a bundle (docs/bundle-format.md) and the reference reader ``load_bundle``;
* ``python -m model``   -- the command line (see :mod:`model.__main__`).
"""

__all__ = ["data", "features", "train", "bundle"]
