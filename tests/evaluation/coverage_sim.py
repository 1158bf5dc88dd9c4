"""A population with a known difference, for measuring interval coverage (``test_coverage.py``, and the table in
the closing note: ``python -m tests.evaluation.coverage_sim``).

Every model shares one latent ease ``z_i`` per example (seeds perturb a shared pretrained model, they do not
redraw it). Seed ``s`` of model ``m`` answers example ``i`` right when ``z_i + h_mi + a_ms + eps_msi > 0``:

- ``h``: the variant's effect, heterogeneous per example (helps some, hurts others), 0 for the baseline;
- ``a``: the seed's shift of the whole prediction set; ``eps``: the seed x example interaction;
- pairing: seed ``s`` fixes data order and head init for both models, so their ``a`` and ``eps`` correlate.

The true difference is the population mean of ``Phi((z+h)/S) - Phi(z/S)`` with ``S^2 = sa^2 + seps^2``: exact,
over the seed distribution and every example of the population. Each experiment draws a fresh test set from the
population and fresh seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from dapt.evaluation.bootstrap import paired_bootstrap
from dapt.evaluation.seed_interval import seed_aware_comparison


@dataclass(frozen=True)
class Population:
    true_diff: float
    z: np.ndarray
    h: np.ndarray
    seed_sd: float = 0.08
    interaction_sd: float = 0.6
    pairing: float = 0.5

    @classmethod
    def build(cls, true_diff: float, n: int = 20000, spread: float = 0.4, seed: int = 0, **kw) -> Population:
        """``h_i = spread * (+-1) + offset``, the offset solved so the population's true difference is exact."""
        rng = np.random.default_rng(seed)
        z = rng.normal(0.3, 1.0, n)
        sign = rng.choice([-1.0, 1.0], n)
        scale = np.sqrt(kw.get("seed_sd", cls.seed_sd) ** 2 + kw.get("interaction_sd", cls.interaction_sd) ** 2)

        def gap(offset: float) -> float:
            h = spread * sign + offset
            return float(np.mean(stats.norm.cdf((z + h) / scale) - stats.norm.cdf(z / scale))) - true_diff

        offset = optimize.brentq(gap, -3.0, 3.0, xtol=1e-12)
        return cls(true_diff=true_diff, z=z, h=spread * sign + offset, **kw)

    def experiment(self, rng: np.random.Generator, n_seeds: int, n_examples: int = 300):
        """``gold, variant predictions per seed, baseline predictions per seed`` for one fresh test set."""
        idx = rng.choice(len(self.z), n_examples, replace=False)
        z, h = self.z[idx], self.h[idx]
        gold = rng.integers(0, 4, n_examples)
        wrong = (gold + 1) % 4
        r = self.pairing
        a_b = rng.normal(0, self.seed_sd, n_seeds)
        a_v = r * a_b + np.sqrt(1 - r * r) * rng.normal(0, self.seed_sd, n_seeds)
        e_b = rng.normal(0, self.interaction_sd, (n_seeds, n_examples))
        e_v = r * e_b + np.sqrt(1 - r * r) * rng.normal(0, self.interaction_sd, (n_seeds, n_examples))
        variant = [np.where(z + h + a_v[s] + e_v[s] > 0, gold, wrong) for s in range(n_seeds)]
        baseline = [np.where(z + a_b[s] + e_b[s] > 0, gold, wrong) for s in range(n_seeds)]
        return gold, variant, baseline


def _t_parts(gold, variant, baseline, n_resamples, seed):
    boot = paired_bootstrap("accuracy", gold, variant, baseline, n_resamples, seed)
    d = np.asarray(boot["per_seed_diff"])
    return boot, d, len(d)


def dapt_interval(gold, variant, baseline, n_resamples=200, seed=0):
    return seed_aware_comparison("accuracy", gold, variant, baseline, n_resamples=n_resamples, seed=seed)["ci95"]


def old_interval(gold, variant, baseline, n_resamples=200, seed=0):
    """The construction shipped before: seed variance + the whole bootstrap variance, Welch-Satterthwaite df."""
    boot, d, n = _t_parts(gold, variant, baseline, n_resamples, seed)
    vs, vt = d.var(ddof=1) / n, boot["test_variance"]
    df = np.inf if vs == 0 else max(n - 1, (n - 1) * ((vs + vt) / vs) ** 2)
    half = stats.t.ppf(0.975, df) * np.sqrt(vs + vt)
    return [d.mean() - half, d.mean() + half]


def normal_interval(gold, variant, baseline, n_resamples=200, seed=0):
    """Wrong on purpose: dapt's variance with a normal quantile instead of t."""
    out = seed_aware_comparison("accuracy", gold, variant, baseline, n_resamples=n_resamples, seed=seed)
    half = stats.norm.ppf(0.975) * out["se"]
    return [out["diff"] - half, out["diff"] + half]


def seed_only_interval(gold, variant, baseline, n_resamples=200, seed=0):
    """Wrong on purpose: a t over seeds that ignores which test examples were drawn."""
    d = np.array([np.mean(v == gold) - np.mean(b == gold) for v, b in zip(variant, baseline, strict=True)])
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return [d.mean() - half, d.mean() + half]


def always_wide_interval(gold, variant, baseline, n_resamples=200, seed=0):
    """Wrong on purpose: covers everything, detects nothing."""
    return [-1.0, 1.0]


METHODS: dict[str, Callable] = {
    "dapt": dapt_interval,
    "old (V_m + Welch df)": old_interval,
    "normal quantile": normal_interval,
    "seeds only": seed_only_interval,
    "always [-1, 1]": always_wide_interval,
}


def coverage_table(methods: dict[str, Callable], seeds=(2, 3, 5), diffs=(0.0, 0.04), runs: int = 1000, seed: int = 7):
    """``{(method, n_seeds, true_diff): (coverage, share of intervals excluding 0)}``; every method sees the same
    experiments."""
    out: dict = {}
    for true_diff in diffs:
        pop = Population.build(true_diff)
        for n_seeds in seeds:
            rng = np.random.default_rng([seed, n_seeds, int(true_diff * 1e4)])
            hits = {m: [0, 0] for m in methods}
            for r in range(runs):
                gold, variant, baseline = pop.experiment(rng, n_seeds)
                for m, fn in methods.items():
                    lo, hi = fn(gold, variant, baseline, seed=r)
                    hits[m][0] += lo <= true_diff <= hi
                    hits[m][1] += lo > 0 or hi < 0
            for m, (cov, excl) in hits.items():
                out[(m, n_seeds, true_diff)] = (cov / runs, excl / runs)
    return out


def acceptable(table: dict, method: str, min_coverage: float = 0.935, min_power: float = 0.3) -> list[str]:
    """Why ``method`` fails (empty: it passes): coverage below ``min_coverage`` in any cell, or, at the largest
    seed count and a non-zero true difference, excluding 0 in fewer than ``min_power`` of the experiments."""
    cells = {k[1:]: v for k, v in table.items() if k[0] == method}
    top = max(s for s, _ in cells)
    why = [f"coverage {c:.3f} at {s} seeds, true diff {d:+.2f}" for (s, d), (c, _) in cells.items() if c < min_coverage]
    why += [
        f"power {p:.3f} at {s} seeds, true diff {d:+.2f}"
        for (s, d), (_, p) in cells.items()
        if s == top and d and p < min_power
    ]
    return why


if __name__ == "__main__":
    import sys

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    table = coverage_table(METHODS, runs=runs)
    print(f"| method | seeds | true diff | coverage | excludes 0 | ({runs} experiments a cell, n = 300 examples)")
    print("|---|---:|---:|---:|---:|")
    for (m, s, d), (c, p) in table.items():
        print(f"| {m} | {s} | {d:+.2f} | {c:.3f} | {p:.3f} |")
    for m in METHODS:
        print(m, "->", acceptable(table, m) or "passes")
