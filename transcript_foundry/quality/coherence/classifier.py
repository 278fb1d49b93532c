"""The learned discriminator: logistic regression over the named features, plus the two turn heads.

Weights live in a JSON file in the package (``weights/coherence-v1.json``), never a pickle: the version,
the feature names in order, each feature's standardisation (mean, scale), the coefficients and intercept,
the turn heads (role and position, one weight per embedding dimension) and how they were trained.
``load_weights`` refuses a file of another version or with other feature names.

Fitting is plain numpy (Newton's method on the L2-penalised log-likelihood): deterministic, no new
dependency. ``tools/train_discriminator.py`` fits and writes the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from transcript_foundry.quality.coherence.features import FEATURE_NAMES
from transcript_foundry.quality.coherence.turn_coherence import TurnHeads

VERSION = "coherence-v1"
WEIGHTS_DIR = Path(__file__).parent / "weights"


class WeightsError(ValueError):
    """A weights file is missing, of another version, or does not match the feature vector."""


def weights_path(version: str = VERSION) -> Path:
    return WEIGHTS_DIR / f"{version}.json"


@dataclass(frozen=True)
class DiscriminatorWeights:
    version: str
    feature_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    heads: TurnHeads
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's share of the logit (coefficient x standardised value)."""
        return self.coef * self.standardise(x)

    def logit(self, x: np.ndarray) -> float:
        return float(self.contributions(x).sum() + self.intercept)

    def probability(self, x: np.ndarray) -> float:
        return float(1.0 / (1.0 + np.exp(-self.logit(x))))

    def to_json(self) -> dict[str, Any]:
        r = lambda a: [round(float(v), 6) for v in a]  # noqa: E731
        return {
            "version": self.version,
            "feature_names": list(self.feature_names),
            "mean": r(self.mean),
            "scale": r(self.scale),
            "coef": r(self.coef),
            "intercept": round(self.intercept, 6),
            "heads": {
                "role_w": r(self.heads.role_w),
                "role_b": round(self.heads.role_b, 6),
                "pos_w": r(self.heads.pos_w),
                "pos_b": round(self.heads.pos_b, 6),
            },
            "metadata": dict(self.metadata),
        }


def _array(data: Mapping[str, Any], key: str, length: int | None, where: str) -> np.ndarray:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, int | float) for v in value):
        raise WeightsError(f"{where}: {key} must be a list of numbers")
    if length is not None and len(value) != length:
        raise WeightsError(f"{where}: {key} has {len(value)} values, expected {length}")
    return np.asarray(value, dtype=np.float64)


def weights_from_json(
    data: Any, expected_version: str = VERSION, where: str = "weights"
) -> DiscriminatorWeights:
    if not isinstance(data, Mapping):
        raise WeightsError(f"{where}: expected a JSON object")
    version = data.get("version")
    if version != expected_version:
        raise WeightsError(
            f"{where}: version {version!r}, but this code reads {expected_version!r}; retrain with "
            "tools/train_discriminator.py or load the matching weights file"
        )
    names = tuple(data.get("feature_names") or ())
    if names != FEATURE_NAMES:
        missing = [n for n in FEATURE_NAMES if n not in names]
        extra = [n for n in names if n not in FEATURE_NAMES]
        raise WeightsError(
            f"{where}: feature names do not match the code's feature vector"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)}" if extra else "")
            + ("" if missing or extra else "; same names in another order")
        )
    k = len(FEATURE_NAMES)
    heads = data.get("heads")
    if not isinstance(heads, Mapping):
        raise WeightsError(f"{where}: heads missing")
    role_w = _array(heads, "role_w", None, f"{where}.heads")
    pos_w = _array(heads, "pos_w", len(role_w), f"{where}.heads")
    scale = _array(data, "scale", k, where)
    if np.any(scale <= 0):
        raise WeightsError(f"{where}: scale must be > 0 for every feature")
    return DiscriminatorWeights(
        version=version,
        feature_names=names,
        mean=_array(data, "mean", k, where),
        scale=scale,
        coef=_array(data, "coef", k, where),
        intercept=float(data.get("intercept", 0.0)),
        heads=TurnHeads(role_w, float(heads.get("role_b", 0.0)), pos_w, float(heads.get("pos_b", 0.0))),
        metadata=dict(data.get("metadata") or {}),
    )


def load_weights(path: Path | None = None, expected_version: str = VERSION) -> DiscriminatorWeights:
    """The weights in ``path`` (default: the packaged file of ``expected_version``), checked."""
    path = path or weights_path(expected_version)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightsError(f"{path}: no weights file; run tools/train_discriminator.py") from None
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{path}: not JSON ({exc})") from None
    return weights_from_json(data, expected_version, where=str(path))


def save_weights(weights: DiscriminatorWeights, path: Path | None = None) -> Path:
    path = path or weights_path(weights.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(weights.to_json(), indent=1) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ fitting


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    l2: float = 1.0,
    iterations: int = 100,
) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton's method (the intercept is not penalised)."""
    n, k = x.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    design = np.hstack([x, np.ones((n, 1))])
    beta = np.zeros(k + 1)
    penalty = np.full(k + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        z = design @ beta
        p = 1.0 / (1.0 + np.exp(-z))
        grad = design.T @ (w * (p - y)) + penalty * beta
        hess = (design * (w * p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(k + 1)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def fit_ridge(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Ridge regression in closed form (the intercept is not penalised)."""
    xm, ym = x.mean(axis=0), float(y.mean())
    xc = x - xm
    w = np.linalg.solve(xc.T @ xc + l2 * np.eye(x.shape[1]), xc.T @ (y - ym))
    return w, ym - float(xm @ w)


def fit_heads(
    embeddings: np.ndarray, speakers: Sequence[str], positions: np.ndarray, l2: float = 1.0
) -> TurnHeads:
    """The role head (logistic: is this turn the agent's?) and the position head (ridge: relative position)."""
    is_agent = np.array([1.0 if s == "AGENT" else 0.0 for s in speakers])
    role_w, role_b = fit_logistic(embeddings.astype(np.float64), is_agent, l2=l2)
    pos_w, pos_b = fit_ridge(embeddings.astype(np.float64), positions.astype(np.float64), l2=l2)
    return TurnHeads(role_w, role_b, pos_w, pos_b)


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counted half (the Mann-Whitney statistic)."""
    if not positive or not negative:
        return float("nan")
    pos = np.asarray(positive, dtype=np.float64)[:, None]
    neg = np.asarray(negative, dtype=np.float64)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))
