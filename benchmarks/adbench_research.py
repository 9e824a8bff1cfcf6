"""Research for issue 13: autoencoder recipes screened on ADBench's tables.

A self-contained torch prototype of the candidate defaults (no change to
``src/``): a small dense autoencoder, or an ensemble of them, trained with an
optional trimmed loss, scored by reconstruction error, by the distance of a row's
latent code to its k nearest training codes, or by both combined. Each recipe is
scored with ``benchmarks/adbench.py``'s protocol and splits, so the rows can be put
beside the peers' rows of a full run (``benchmarks/results/adbench_runs.csv``).

    .venv/bin/python -m benchmarks.adbench_research --recipes base,knn --sets tune --seeds 0
    .venv/bin/python -m benchmarks.adbench_research --recipes final --sets all --seeds 0,1,2

Writes ``benchmarks/results/adbench_research_runs.csv`` (appending, one row per
recipe, set, seed and setting) and prints a summary beside the peers.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from benchmarks import adbench

# Sets the recipes were chosen on, and sets held back until the end (issue 13).
TUNE = (
    "aloi", "campaign", "cardio", "fault", "glass", "magic.gamma",
    "pima", "shuttle", "spambase", "thyroid", "vowels", "wilt",
)  # fmt: skip
HELD_OUT = (
    "ionosphere", "letter", "mammography", "optdigits", "pendigits", "satellite", "wbc", "yeast",
)  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    """One candidate default: network size, training and score."""

    members: int = 1  # autoencoders in the ensemble (seeds seed, seed+1, ...)
    hidden: tuple[int, ...] | None = (64, 32, 8)  # None: from the table's shape
    epochs: int = 200
    steps: int = 0  # > 0: epochs set to give about this many optimiser steps (10..200)
    patience: int = 20  # on a 10% validation part; 0: no early stopping
    batch: int | str = "auto"
    lr: float = 3e-3
    weight_decay: float = 0.0
    dropout: float = 0.0
    trim: float = 0.0  # share of the worst-rebuilt rows of each batch left out of the loss
    score: str = "recon"  # recon, knn, recon+knn
    k: int = 5
    combine: str = "zscore"  # zscore or rank, over the training scores
    scaling: str = "standard"  # standard or robust
    clip: float = 5.0
    bagging: float = 1.0  # share of columns each member sees (1: all)
    notes: str = field(default="", compare=False)


def shape_hidden(d: int) -> tuple[int, ...]:
    """Widths from the number of columns: first layer 2d clipped to [16, 64], latent ~d/3."""
    first = int(min(64, max(16, 2 * d)))
    latent = int(max(2, min(16, round(d / 3))))
    mid = int(max(latent + 1, round(math.sqrt(first * latent))))
    return (first, mid, latent)


class Dense(nn.Module):
    def __init__(self, d: int, hidden: tuple[int, ...], dropout: float) -> None:
        super().__init__()
        enc: list[nn.Module] = []
        width = d
        for i, h in enumerate(hidden):
            enc.append(nn.Linear(width, h))
            if i < len(hidden) - 1:
                enc.append(nn.ReLU())
                if dropout:
                    enc.append(nn.Dropout(dropout))
            width = h
        dec: list[nn.Module] = [nn.ReLU()]
        for h in list(hidden[-2::-1]) + [d]:
            dec.append(nn.Linear(width, h))
            if h != d:
                dec.append(nn.ReLU())
                if dropout:
                    dec.append(nn.Dropout(dropout))
            width = h
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return self.decoder(z), z


def _scale(X: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    if kind == "robust":
        centre = np.median(X, axis=0)
        spread = np.quantile(X, 0.75, axis=0) - np.quantile(X, 0.25, axis=0)
        sd = X.std(axis=0)
        spread = np.where(spread > 1e-9 * np.maximum(1, np.abs(centre)), spread / 1.349, sd)
    else:
        centre, spread = X.mean(axis=0), X.std(axis=0)
    spread = np.where(spread > 1e-12, spread, 1.0)
    return centre, spread


def _knn(Z: torch.Tensor, Q: torch.Tensor, k: int, exclude_self: bool) -> torch.Tensor:
    """Mean distance of each row of Q to its k nearest rows of Z (itself excluded if asked)."""
    out = []
    kk = min(k + int(exclude_self), len(Z))
    for start in range(0, len(Q), 2048):
        d = torch.cdist(Q[start : start + 2048], Z)
        near = d.topk(kk, largest=False).values
        out.append(near[:, int(exclude_self) :].mean(dim=1))
    return torch.cat(out)


def _train(
    model: Dense, X: torch.Tensor, target: torch.Tensor, r: Recipe, gen: torch.Generator
) -> int:
    n = len(X)
    n_val = int(round(0.1 * n)) if r.patience else 0
    order = torch.randperm(n, generator=gen)
    val, fit = order[:n_val], order[n_val:]
    batch = min(256, max(32, len(fit) // 8)) if r.batch == "auto" else int(r.batch)
    opt = torch.optim.Adam(model.parameters(), lr=r.lr, weight_decay=r.weight_decay)
    epochs = r.epochs
    if r.steps > 0:
        epochs = int(min(200, max(10, math.ceil(r.steps / math.ceil(len(fit) / batch)))))
    best, best_state, since, kept = math.inf, None, 0, 0
    for epoch in range(epochs):
        model.train()
        perm = fit[torch.randperm(len(fit), generator=gen)]
        for start in range(0, len(perm), batch):
            idx = perm[start : start + batch]
            out, _ = model(X[idx])
            per_row = (out - target[idx]).square().mean(dim=1)
            if r.trim > 0 and len(idx) > 4:
                keep = max(1, int(math.ceil(len(idx) * (1 - r.trim))))
                per_row = per_row.topk(keep, largest=False).values
            loss = per_row.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if n_val:
            model.eval()
            with torch.no_grad():
                vr = (model(X[val])[0] - target[val]).square().mean(dim=1)
                if r.trim > 0:
                    vr = vr.topk(
                        max(1, int(math.ceil(len(vr) * (1 - r.trim)))), largest=False
                    ).values
                v = float(vr.mean())
            if v < best - 1e-7:
                best, since, kept = v, 0, epoch
                best_state = {k: t.clone() for k, t in model.state_dict().items()}
            else:
                since += 1
                if since >= r.patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return kept


class Prototype:
    """Fit a recipe on X; ``score(T)`` higher = more anomalous; ``train_scores_``."""

    def __init__(self, recipe: Recipe, seed: int) -> None:
        self.r, self.seed = recipe, seed

    def _member_scores(self, m: dict[str, Any], T: torch.Tensor) -> dict[str, torch.Tensor]:
        cols = m["cols"]
        x = T[:, cols]
        with torch.no_grad():
            out, z = m["model"](x.clamp(-self.r.clip, self.r.clip))
        s = {"recon": (out - x).square().mean(dim=1)}
        if "knn" in self.r.score:
            s["knn"] = _knn(m["codes"], z, self.r.k, exclude_self=False)
        return s

    def fit(self, X: np.ndarray) -> Prototype:
        r = self.r
        self.centre_, self.spread_ = _scale(X, r.scaling)
        Xs = torch.from_numpy(((X - self.centre_) / self.spread_).astype(np.float32))
        d = Xs.shape[1]
        self.members_ = []
        train_parts: list[dict[str, torch.Tensor]] = []
        for i in range(r.members):
            seed = self.seed * 1000 + i
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            if r.bagging < 1:
                rng = np.random.default_rng(seed)
                n_cols = max(2, int(round(r.bagging * d)))
                cols = torch.from_numpy(np.sort(rng.choice(d, size=min(d, n_cols), replace=False)))
            else:
                cols = torch.arange(d)
            x = Xs[:, cols]
            hidden = r.hidden if r.hidden is not None else shape_hidden(len(cols))
            model = Dense(len(cols), hidden, r.dropout)
            _train(model, x.clamp(-r.clip, r.clip), x, r, gen)
            m = {"model": model, "cols": cols}
            with torch.no_grad():
                _, z = model(x.clamp(-r.clip, r.clip))
            m["codes"] = z
            parts = self._member_scores(m, Xs)
            if "knn" in parts:
                parts["knn"] = _knn(z, z, r.k, exclude_self=True)
            self.members_.append(m)
            train_parts.append(parts)
        self.ref_ = [{k: np.sort(v.numpy()) for k, v in p.items()} for p in train_parts]
        self.train_scores_ = self._combine(train_parts)
        return self

    def _norm(self, ref: np.ndarray, s: np.ndarray) -> np.ndarray:
        if self.r.combine == "rank":
            return np.searchsorted(ref, s, side="right") / len(ref)
        sd = ref.std()
        return (s - ref.mean()) / (sd if sd > 0 else 1.0)

    def _combine(self, parts: list[dict[str, torch.Tensor]]) -> np.ndarray:
        wanted = ["recon", "knn"] if self.r.score == "recon+knn" else [self.r.score]
        total = 0.0
        for ref, p in zip(self.ref_, parts, strict=True):
            for key in wanted:
                total = total + self._norm(ref[key], p[key].numpy().astype(np.float64))
        return np.asarray(total) / (len(parts) * len(wanted))

    def score(self, T: np.ndarray) -> np.ndarray:
        Ts = torch.from_numpy(((T - self.centre_) / self.spread_).astype(np.float32))
        return self._combine([self._member_scores(m, Ts) for m in self.members_])


RECIPES: dict[str, Recipe] = {
    "base": Recipe(notes="aedetect's defaults re-implemented: 64-32-8, 200 epochs, patience 20"),
    "shape": Recipe(hidden=None, notes="widths from the table's shape"),
    "short": Recipe(epochs=30, patience=0, notes="30 epochs, no early stopping"),
    "shape-short": Recipe(hidden=None, epochs=30, patience=0),
    "trim": Recipe(trim=0.1, notes="trimmed loss: the worst 10% of each batch left out"),
    "shape-trim": Recipe(hidden=None, epochs=30, patience=0, trim=0.1),
    "ens5": Recipe(members=5, hidden=None, epochs=30, patience=0),
    "ens5-trim": Recipe(members=5, hidden=None, epochs=30, patience=0, trim=0.1),
    "knn": Recipe(hidden=None, epochs=30, patience=0, score="knn"),
    "recon+knn": Recipe(hidden=None, epochs=30, patience=0, score="recon+knn"),
    "ens5-recon+knn": Recipe(members=5, hidden=None, epochs=30, patience=0, score="recon+knn"),
    "ens5-trim-recon+knn": Recipe(
        members=5, hidden=None, epochs=30, patience=0, score="recon+knn", trim=0.1
    ),
    "ens5-bag": Recipe(members=5, hidden=None, epochs=30, patience=0, bagging=0.5),
    "ens5-rank": Recipe(members=5, hidden=None, epochs=30, patience=0, combine="rank"),
    "robust": Recipe(hidden=None, epochs=30, patience=0, scaling="robust"),
    "s-recon": Recipe(hidden=None, steps=1000, patience=0),
    "s-knn": Recipe(hidden=None, steps=1000, patience=0, score="knn"),
    "s-rk": Recipe(hidden=None, steps=1000, patience=0, score="recon+knn"),
    "e5-recon": Recipe(members=5, hidden=None, steps=600, patience=0),
    "e5-rk": Recipe(members=5, hidden=None, steps=600, patience=0, score="recon+knn"),
    "e5-rk-trim": Recipe(
        members=5, hidden=None, steps=600, patience=0, score="recon+knn", trim=0.1
    ),
    "e5-rk-rank": Recipe(
        members=5, hidden=None, steps=600, patience=0, score="recon+knn", combine="rank"
    ),
    "e5-rk-bag": Recipe(
        members=5, hidden=None, steps=600, patience=0, score="recon+knn", bagging=0.5
    ),
}


def recipe_from(name: str) -> Recipe:
    """A recipe by name, or ``base`` with overrides: ``ens5-recon+knn:k=10,trim=0.05``."""
    base, _, overrides = name.partition(":")
    r = RECIPES[base]
    for item in filter(None, overrides.split(",")):
        key, value = item.split("=")
        current = getattr(r, key)
        if isinstance(current, bool):
            v: Any = value == "True"
        elif isinstance(current, int) and not isinstance(current, bool):
            v = int(value)
        elif isinstance(current, float):
            v = float(value)
        elif key == "hidden":
            v = None if value == "shape" else tuple(int(t) for t in value.split("-"))
        else:
            v = value
        r = replace(r, **{key: v})
    return r


def evaluate(recipe: Recipe, split: adbench.Split) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    start = time.perf_counter()
    proto = Prototype(recipe, split.seed).fit(split.X_fit)
    fit_s = time.perf_counter() - start
    scores = proto.score(split.X_test)
    return {
        "status": "ok",
        "fit_s": fit_s,
        "auroc": float(roc_auc_score(split.y_test, scores)),
        "ap": float(average_precision_score(split.y_test, scores)),
    }


def sets_of(text: str) -> list[str]:
    if text == "tune":
        return list(TUNE)
    if text == "held":
        return list(HELD_OUT)
    if text == "all":
        return list(TUNE + HELD_OUT)
    return text.split(",")


def append_rows(new: pd.DataFrame, path: Path) -> None:
    """Write ``new`` into the CSV at ``path``, replacing rows of the same split and method."""
    old = pd.read_csv(path) if path.exists() else None
    if old is not None:
        keys = ["dataset", "seed", "setting", "method"]
        old = old.merge(new[keys], on=keys, how="left", indicator=True)
        old = old[old["_merge"] == "left_only"].drop(columns="_merge")
    pd.concat([old, new] if old is not None else [new]).to_csv(path, index=False)


def compare(research: pd.DataFrame, peers: pd.DataFrame, recipe_names: list[str]) -> pd.DataFrame:
    """Each recipe beside the peers on the same splits: mean AUROC, AP and rank."""
    rows = []
    keys = ["dataset", "seed", "setting"]
    for name in recipe_names:
        mine = research[research["method"] == name]
        for setting, part in mine.groupby("setting"):
            done = part[keys].drop_duplicates()
            others = peers.merge(done, on=keys)
            others = others[others["method"] != "aedetect"]
            both = pd.concat([others, part])
            rank = adbench.ranks(both)
            per_set = (
                both[both["status"] == "ok"].groupby(["dataset", "method"])[["auroc", "ap"]].mean()
            )
            means = per_set.groupby("method").mean()
            best_peer = means.drop(index=name)["auroc"].max()
            rows.append(
                {
                    "recipe": name,
                    "setting": setting,
                    "sets": part["dataset"].nunique(),
                    "auroc": means.loc[name, "auroc"],
                    "ap": means.loc[name, "ap"],
                    "rank": rank[name].mean(),
                    "best_peer_auroc": best_peer,
                    "best_peer_rank": rank.drop(columns=[name]).mean().min(),
                    "fit_s": part["fit_s"].mean(),
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(prog="python -m benchmarks.adbench_research")
    p.add_argument("--recipes", required=True, help="comma-separated; ';' between when using ':'")
    p.add_argument("--sets", default="tune")
    p.add_argument("--seeds", default="0")
    p.add_argument("--settings", default="unsup,oneclass")
    p.add_argument(
        "--out", type=Path, default=adbench.ROOT / "benchmarks/results/adbench_research_runs.csv"
    )
    p.add_argument(
        "--peers", type=Path, default=adbench.ROOT / "benchmarks/results/adbench_runs.csv"
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    adbench.fill_cache_from_local()
    names = args.recipes.split(";") if ";" in args.recipes else args.recipes.split(",")
    seeds = tuple(int(s) for s in args.seeds.split(","))
    settings = tuple(args.settings.split(","))
    rows = []
    for split in adbench.splits(sets_of(args.sets), seeds, settings):
        for name in names:
            row = {
                **adbench.split_info(split),
                "method": name,
                **evaluate(recipe_from(name), split),
            }
            rows.append(row)
            adbench.log(
                f"[{split.dataset} {split.seed} {split.setting}] {name}: "
                f"{row['auroc']:.3f} {row['fit_s']:.1f}s"
            )
    new = pd.DataFrame(rows)
    append_rows(new, args.out)
    if args.peers.exists():
        table = compare(new, pd.read_csv(args.peers), names)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return new


# ------------------------------------------------------------------ screening by parts
# Train the members of a recipe once per split and keep every member's training and
# test scores; the scores of smaller ensembles, of each score kind and of each way
# of combining them are then computed from those arrays without training again.
def member_arrays(recipe: Recipe, split: adbench.Split) -> dict[str, np.ndarray]:
    """Per member, reconstruction and latent-kNN scores of training and test rows."""
    r = replace(recipe, score="recon+knn")
    start = time.perf_counter()
    proto = Prototype(r, split.seed).fit(split.X_fit)
    fit_s = time.perf_counter() - start
    Xs = torch.from_numpy(((split.X_test - proto.centre_) / proto.spread_).astype(np.float32))
    test = [proto._member_scores(m, Xs) for m in proto.members_]
    out: dict[str, np.ndarray] = {"fit_s": np.array(fit_s)}
    for key in ("recon", "knn"):
        out[f"{key}_test"] = np.stack([t[key].numpy() for t in test]).astype(np.float64)
        # ref_ holds each member's sorted training scores; order does not matter here
        out[f"{key}_train"] = np.stack([ref[key] for ref in proto.ref_]).astype(np.float64)
    return out


def combine(arrays: dict[str, np.ndarray], members: int, kinds: tuple[str, ...], how: str):
    """Training and test scores of the first ``members`` members, ``kinds`` combined."""
    train_total, test_total = 0.0, 0.0
    for key in kinds:
        for m in range(members):
            ref, s = arrays[f"{key}_train"][m], arrays[f"{key}_test"][m]
            if how == "rank":
                ref_sorted = np.sort(ref)
                train_total = train_total + np.searchsorted(ref_sorted, ref, "right") / len(ref)
                test_total = test_total + np.searchsorted(ref_sorted, s, "right") / len(ref)
            else:
                mu, sd = ref.mean(), ref.std() or 1.0
                if how == "logz":
                    lref, ls = np.log(ref + 1e-12), np.log(s + 1e-12)
                    mu, sd = lref.mean(), lref.std() or 1.0
                    ref, s = lref, ls
                train_total = train_total + (ref - mu) / sd
                test_total = test_total + (s - mu) / sd
    n = members * len(kinds)
    return np.asarray(train_total) / n, np.asarray(test_total) / n


VARIANTS = {
    "1-recon": (1, ("recon",), "zscore"),
    "1-knn": (1, ("knn",), "zscore"),
    "1-rk": (1, ("recon", "knn"), "zscore"),
    "3-recon": (3, ("recon",), "zscore"),
    "3-rk": (3, ("recon", "knn"), "zscore"),
    "5-recon": (5, ("recon",), "zscore"),
    "5-knn": (5, ("knn",), "zscore"),
    "5-rk": (5, ("recon", "knn"), "zscore"),
    "5-rk-rank": (5, ("recon", "knn"), "rank"),
    "5-rk-logz": (5, ("recon", "knn"), "logz"),
    "5-recon-logz": (5, ("recon",), "logz"),
}


def screen(argv: list[str] | None = None) -> pd.DataFrame:
    """``--recipes`` train configs; every variant of each scored from cached member arrays."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    p = argparse.ArgumentParser(prog="python -m benchmarks.adbench_research screen")
    p.add_argument("--recipes", required=True, help="';'-separated recipe names")
    p.add_argument("--sets", default="tune")
    p.add_argument("--seeds", default="0")
    p.add_argument("--settings", default="unsup,oneclass")
    p.add_argument("--cache", type=Path, default=Path("/tmp/adbench-research"))
    p.add_argument(
        "--out", type=Path, default=adbench.ROOT / "benchmarks/results/adbench_screen_runs.csv"
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    adbench.fill_cache_from_local()
    args.cache.mkdir(parents=True, exist_ok=True)
    names = args.recipes.split(";")
    seeds = tuple(int(s) for s in args.seeds.split(","))
    rows = []
    for split in adbench.splits(sets_of(args.sets), seeds, tuple(args.settings.split(","))):
        for name in names:
            recipe = recipe_from(name)
            safe = name.replace(":", "_").replace(",", "_").replace("=", "-")
            path = args.cache / f"{safe}__{split.dataset}_{split.seed}_{split.setting}.npz"
            if path.exists():
                arrays = dict(np.load(path))
            else:
                arrays = member_arrays(recipe, split)
                np.savez(path, **arrays)
            n_members = arrays["recon_test"].shape[0]
            for variant, (members, kinds, how) in VARIANTS.items():
                if members > n_members:
                    continue
                _, test = combine(arrays, members, kinds, how)
                rows.append(
                    {
                        **adbench.split_info(split),
                        "method": f"{name}/{variant}",
                        "status": "ok",
                        "fit_s": float(arrays["fit_s"]) * members / n_members,
                        "auroc": float(roc_auc_score(split.y_test, test)),
                        "ap": float(average_precision_score(split.y_test, test)),
                    }
                )
            adbench.log(
                f"[{split.dataset} {split.seed} {split.setting}] {name}: "
                f"{float(arrays['fit_s']):.1f}s"
            )
    new = pd.DataFrame(rows)
    append_rows(new, args.out)
    return new


def _logz(ref: np.ndarray, s: np.ndarray) -> np.ndarray:
    lref, ls = np.log(ref + 1e-12), np.log(s + 1e-12)
    return (ls - lref.mean()) / (lref.std() or 1.0)


def mix_scores(
    spec: str, cache: Path, split_key: str
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Training and test scores of an ensemble spec over cached member arrays.

    ``spec`` is ``recipe@0+1+2@recon+knn|other@0@recon``: members of cached recipes
    (file-name form), the score kinds of each; every part is put on one scale by the
    z-score of its log against its training scores, then all parts are averaged.
    """
    train_total, test_total, n, fit_s = 0.0, 0.0, 0, 0.0
    for part in spec.split("|"):
        recipe, idx, kinds = part.split("@")
        path = cache / f"{recipe}__{split_key}.npz"
        if not path.exists():
            return None
        arrays = dict(np.load(path))
        ids = [int(i) for i in idx.split("+")]
        fit_s += float(arrays["fit_s"]) * len(ids) / arrays["recon_test"].shape[0]
        for kind in kinds.split("+"):
            for i in ids:
                ref = arrays[f"{kind}_train"][i]
                train_total = train_total + _logz(ref, ref)
                test_total = test_total + _logz(ref, arrays[f"{kind}_test"][i])
                n += 1
    return np.asarray(train_total) / n, np.asarray(test_total) / n, fit_s


def mix(argv: list[str] | None = None) -> pd.DataFrame:
    """Score ensemble specs (``name=spec``) from the cached member arrays of ``screen``."""
    import re

    from sklearn.metrics import average_precision_score, roc_auc_score

    from aedetect.data.adbench import load_adbench_arrays

    p = argparse.ArgumentParser(prog="python -m benchmarks.adbench_research mix")
    p.add_argument("specs", nargs="+", help="name=recipe@members@kinds|...")
    p.add_argument("--cache", type=Path, default=Path("/tmp/adbench-research"))
    p.add_argument(
        "--out", type=Path, default=adbench.ROOT / "benchmarks/results/adbench_ablation_runs.csv"
    )
    args = p.parse_args(argv)
    adbench.fill_cache_from_local()
    keys = sorted({f.name[:-4].split("__")[1] for f in args.cache.glob("*__*.npz")})
    rows, labels = [], {}
    for key in keys:
        m = re.match(r"(.+)_(\d+)_(unsup|oneclass)$", key)
        if m is None:
            continue
        dataset, seed, setting = m.group(1), int(m.group(2)), m.group(3)
        for item in args.specs:
            name, spec = item.split("=", 1)
            got = mix_scores(spec, args.cache, key)
            if got is None:
                continue
            if key not in labels:
                X, y = load_adbench_arrays(dataset)
                labels[key] = adbench.make_split(dataset, X, y, seed, setting).y_test
            _, test, fit_s = got
            rows.append(
                {
                    "dataset": dataset,
                    "seed": seed,
                    "setting": setting,
                    "method": name,
                    "spec": spec,
                    "status": "ok",
                    "fit_s": fit_s,
                    "auroc": float(roc_auc_score(labels[key], test)),
                    "ap": float(average_precision_score(labels[key], test)),
                }
            )
    out = pd.DataFrame(rows)
    out.to_csv(args.out, index=False)
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["screen"]:
        screen(sys.argv[2:])
    elif sys.argv[1:2] == ["mix"]:
        mix(sys.argv[2:])
    else:
        main()
