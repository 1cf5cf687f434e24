"""scikit-learn integration when it is installed, small stand-ins when it is not.

gaussmix needs only NumPy at run time. With scikit-learn present, the estimator derives from its
``BaseEstimator`` (so ``clone``, pipelines, grid search, tags and the HTML repr all work) and
raises scikit-learn's own ``NotFittedError`` and ``ConvergenceWarning`` classes, so code that
catches them keeps working after switching the import.
"""

import inspect

import numpy as np

try:  # pragma: no branch - which branch runs depends on the environment
    from sklearn.base import BaseEstimator, DensityMixin, OneToOneFeatureMixin, TransformerMixin
    from sklearn.exceptions import ConvergenceWarning, NotFittedError

    HAVE_SKLEARN = True
except ImportError:
    HAVE_SKLEARN = False

    class NotFittedError(ValueError, AttributeError):  # type: ignore[no-redef]
        """Raised when a method needs a fitted estimator."""

    class ConvergenceWarning(UserWarning):  # type: ignore[no-redef]
        """Raised when EM stops at max_iter before the lower bound settles."""

    class BaseEstimator:  # type: ignore[no-redef]
        """Parameter introspection compatible with scikit-learn's conventions."""

        @classmethod
        def _get_param_names(cls):
            signature = inspect.signature(cls.__init__)
            return sorted(
                p.name
                for p in signature.parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD
            )

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(
                        f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                        f"Valid parameters are: {valid!r}."
                    )
                setattr(self, key, value)
            return self

        def __repr__(self):
            defaults = {
                p.name: p.default
                for p in inspect.signature(type(self).__init__).parameters.values()
            }
            changed = []
            for name, value in self.get_params().items():
                default = defaults.get(name, inspect.Parameter.empty)
                if value is default or (
                    isinstance(value, (int, float, str, bool, type(None)))
                    and type(value) is type(default)
                    and value == default
                ):
                    continue
                changed.append(f"{name}={value!r}")
            return f"{type(self).__name__}({', '.join(changed)})"

    class DensityMixin:  # type: ignore[no-redef]
        """Marks density estimators."""

        _estimator_type = "DensityEstimator"

    class TransformerMixin:  # type: ignore[no-redef]
        """fit_transform for transformers."""

        def fit_transform(self, X, y=None, **fit_params):
            return self.fit(X, y, **fit_params).transform(X)

    class OneToOneFeatureMixin:  # type: ignore[no-redef]
        """Output features named as the input ones."""

        def get_feature_names_out(self, input_features=None):
            names = getattr(self, "feature_names_in_", None)
            if input_features is not None:
                input_features = list(input_features)
                if len(input_features) != self.n_features_in_:
                    raise ValueError(
                        f"input_features should have length equal to number of features "
                        f"({self.n_features_in_}), got {len(input_features)}"
                    )
                if names is not None and list(names) != input_features:
                    raise ValueError("input_features is not equal to feature_names_in_")
                return np.asarray(input_features, dtype=object)
            if names is not None:
                return np.asarray(names, dtype=object)
            return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)


__all__ = [
    "HAVE_SKLEARN",
    "BaseEstimator",
    "DensityMixin",
    "ConvergenceWarning",
    "NotFittedError",
    "OneToOneFeatureMixin",
    "TransformerMixin",
]
