"""The casewise (FIML) normal log-likelihood as a function of (μ, Σ), grouped by missing-data pattern.

    ℓ(μ, Σ) = Σ_k −½ [ n_k (p_k log 2π + log|Σ_k|) + tr(Σ_k⁻¹ T_k) ],   T_k = Σ_{i∈k} w_i (x_i − μ_k)(x_i − μ_k)'

with Σ_k = Σ[o_k, o_k], μ_k = μ[o_k] for the items o_k answered in pattern k.  Only pattern-wise weighted
sums enter (n_k = Σ w_i, s_k = Σ w_i x_i, C_k = Σ w_i x_i x_i'), so a bootstrap resample — integer case
weights w_i — costs one (R × n)·(n × p_k²) product per pattern, and R resamples share every pattern.

The objective knows nothing about how μ(θ) and Σ(θ) are built: it returns ∂ℓ/∂μ and G = ∂ℓ/∂Σ (a symmetric
matrix with dℓ = tr(G dΣ)); ``chain`` in the model layer maps them to the parameters.
    ∂ℓ/∂μ_k = Σ_k⁻¹ (s_k − n_k μ_k),     G_k = ½ (Σ_k⁻¹ T_k Σ_k⁻¹ − n_k Σ_k⁻¹),   embedded at (o_k, o_k).
Casewise scores (the MLR "meat") are the same formulas with one case per pattern.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .missing import LOG2PI, Patterns
from .objective import _is_pd as _pd


_OUTER_BLOCK = 1 << 22   # numbers in one block of per-case x_i x_i' rows (32 MiB)


class CrossProducts(Sequence):
    """C_k = Σ_i w_ri x_i x_i' of every pattern k, each (R, p_k, p_k) — stored only where that is smaller.

    Why: with blanks at random nearly every case has a pattern of its own, and a stored C_k then costs
    p_k² numbers per case (~14 KB at p = 42, 1.4 GB at 100,000 cases).  A pattern with fewer cases than
    answered items keeps its rows (p_k numbers per case) and their weights instead, and C_k is formed from
    them when read — by the same product as when stored, so the numbers do not change."""

    def __init__(self, stored: tuple, rows: tuple, weights: tuple):
        self.stored, self.rows, self.weights = stored, rows, weights

    def __len__(self) -> int:
        return len(self.stored)

    def __getitem__(self, k: int) -> np.ndarray:
        c = self.stored[k]
        return c if c is not None else cross_products(self.rows[k], self.weights[k])

    def take(self, reps: np.ndarray) -> "CrossProducts":
        """The replicates ``reps`` of every C_k."""
        return CrossProducts(tuple(None if c is None else c[reps] for c in self.stored), self.rows,
                             tuple(None if w is None else w[reps] for w in self.weights))


def cross_products(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Σ_i w_ri x_i x_i' (R, p, p) for rows x (m, p) and weights w (R, m), over blocks of rows so that the
    m × p² array of x_i x_i' is never held at once (one block below ``_OUTER_BLOCK`` numbers)."""
    m, p = x.shape
    size = max(1, _OUTER_BLOCK // (p * p))
    total = None
    for start in range(0, m, size):
        rows = slice(start, start + size)
        outer = (x[rows, :, None] * x[rows, None, :]).reshape(len(x[rows]), -1)
        part = w[:, rows] @ outer
        total = part if total is None else total + part
    if total is None:
        total = np.zeros((w.shape[0], p * p))
    return total.reshape(w.shape[0], p, p)


@dataclass(frozen=True)
class PatternSums:
    """Weighted sufficient statistics of every pattern for R replicates (R = 1 for the data themselves)."""

    index: tuple[np.ndarray, ...]   # observed item indices per pattern
    n: tuple[np.ndarray, ...]       # (R,)
    s: tuple[np.ndarray, ...]       # (R, p_k)
    C: CrossProducts                # (R, p_k, p_k) per pattern
    p: int

    @property
    def R(self) -> int:
        return self.n[0].shape[0]

    def take(self, reps: np.ndarray) -> "PatternSums":
        """The replicates ``reps`` (the batched optimiser drops converged ones)."""
        return PatternSums(self.index, tuple(n[reps] for n in self.n), tuple(x[reps] for x in self.s),
                           self.C.take(reps), self.p)


def pattern_sums(data: Patterns, weights: np.ndarray | None = None, center: np.ndarray | None = None) -> PatternSums:
    """Sums per pattern; ``weights`` (R, n) are case multiplicities (None: every case once).

    ``center`` (p,) is subtracted from the data first (numerically kinder for cross-products); callers must
    then pass μ − center to ``loglik``.  Cross-products are stored for patterns with at least p_k cases;
    smaller patterns keep their rows (``CrossProducts``).
    """
    x = data.x if center is None else data.x - center
    if data.w is not None:               # sampling weights multiply every replicate's case multiplicities
        weights = data.w[None] if weights is None else weights * data.w[None]
    idx, ns, ss, stored, raw, raw_w = [], [], [], [], [], []
    for pat in data.patterns:
        o = pat.index
        xo = x[np.ix_(pat.rows, o)]
        w = np.ones((1, len(pat.rows))) if weights is None else weights[:, pat.rows]
        idx.append(o)
        ns.append(w.sum(axis=1))
        ss.append(w @ xo)
        small = len(pat.rows) < len(o)
        stored.append(None if small else cross_products(xo, w))
        raw.append(xo if small else None)
        raw_w.append(w if small else None)
    return PatternSums(tuple(idx), tuple(ns), tuple(ss), CrossProducts(tuple(stored), tuple(raw), tuple(raw_w)),
                       data.p)


def loglik(sums: PatternSums, mu: np.ndarray, sigma: np.ndarray, *, gradient: bool = True):
    """(ℓ[R], ∂ℓ/∂μ [R, p], G [R, p, p]); ℓ = −inf where some Σ_k is not positive definite."""
    R, p = mu.shape[0], sums.p
    ll = np.zeros(R)
    gmu = np.zeros((R, p)) if gradient else None
    G = np.zeros((R, p, p)) if gradient else None
    bad = np.zeros(R, dtype=bool)
    for o, n, s, C in zip(sums.index, sums.n, sums.s, sums.C):
        sk = sigma[:, o][:, :, o]
        mk = mu[:, o]
        try:
            chol = np.linalg.cholesky(sk)
        except np.linalg.LinAlgError:
            ok = np.array([_pd(a) for a in sk])
            bad |= ~ok
            sk = np.where(ok[:, None, None], sk, np.eye(len(o)))
            chol = np.linalg.cholesky(sk)
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        inv = np.linalg.inv(sk)
        sm = s[:, :, None] * mk[:, None, :]
        T = C - sm - np.swapaxes(sm, 1, 2) + n[:, None, None] * mk[:, :, None] * mk[:, None, :]
        IT = inv @ T
        ll += -0.5 * (n * (len(o) * LOG2PI + logdet) + np.trace(IT, axis1=1, axis2=2))
        if gradient:
            gmu[:, o] += np.einsum("rij,rj->ri", inv, s - n[:, None] * mk)
            G[:, o[:, None], o[None, :]] += 0.5 * (IT @ inv - n[:, None, None] * inv)
    if bad.any():
        ll[bad] = -np.inf
        if gradient:
            gmu[bad] = np.nan
            G[bad] = np.nan
    return ll, gmu, G


def casewise_scores(data: Patterns, mu: np.ndarray, sigma: np.ndarray,
                    rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """Per case ∂ℓ_i/∂μ (n, p) and G_i = ∂ℓ_i/∂Σ (n, p, p) at one (μ, Σ) — the ingredients of the MLR meat.

    ``rows`` (a slice of the cases) limits both to those cases: G holds p² numbers per case, so callers
    with many cases take it block by block (``h1_score_blocks``), visiting only the block's patterns.  With
    sampling weights these are the scores of the weighted log-likelihood, w_i ∂ℓ_i (lavaan ``SC * wt``)."""
    n, p = data.x.shape
    start, stop, _ = rows.indices(n)
    gmu = np.zeros((stop - start, p))
    G = np.zeros((stop - start, p, p))
    codes = data.codes[start:stop]
    order = np.argsort(codes, kind="stable")
    for sel in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1):
        if not len(sel):
            continue
        o = data.patterns[codes[sel[0]]].index
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        d = data.x[np.ix_(sel + start, o)] - mu[o]
        z = d @ inv                                            # Σ_k⁻¹ d_i, one row per case
        gmu[np.ix_(sel, o)] = z
        block = z[:, :, None] * z[:, None, :]                  # ½ (z z' − Σ_k⁻¹), one temporary
        block -= inv[None]
        block *= 0.5
        G[sel[:, None, None], o[None, :, None], o[None, None, :]] = block
    if data.w is not None:
        w = data.w[start:stop]
        gmu *= w[:, None]
        G *= w[:, None, None]
    return gmu, G


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row/column of vech(Σ) (lower triangle, column-major as lavaan's ``lav_matrix_vech``)."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows), np.array(cols)


def h1_scores(data: Patterns, mu: np.ndarray, sigma: np.ndarray, *, means: bool = True) -> np.ndarray:
    """Casewise scores w.r.t. the saturated parameters (μ, vech Σ): (n, p + p*) or (n, p*) without means.

    p + p* numbers per case: the fit takes only their cross-products, block by block (``h1_score_blocks``)."""
    return np.vstack([block for _, block in h1_score_blocks(data, mu, sigma, means=means)])


_SCORE_BLOCK = 1 << 21   # per-case p × p numbers in one block of casewise scores (16 MiB)


def h1_score_blocks(data: Patterns, mu: np.ndarray, sigma: np.ndarray, *, means: bool = True,
                    keep: np.ndarray | None = None, project: np.ndarray | None = None
                    ) -> Iterator[tuple[slice, np.ndarray]]:
    """``h1_scores`` in row blocks: (rows, scores of those rows[:, keep] @ project) — what the first-order
    informations (``robust.first_order_blocks``) sum, without an n × p² array (G_i is p² numbers per case)."""
    n, p = data.x.shape
    r, c = vech_indices(p)
    size = max(1, _SCORE_BLOCK // (p * p))
    for start in range(0, n, size):
        rows = slice(start, min(n, start + size))
        gmu, G = casewise_scores(data, mu, sigma, rows)
        block = np.empty((len(G), (p if means else 0) + len(r)))
        if means:
            block[:, :p] = gmu
        np.multiply(G[:, r, c], np.where(r == c, 1.0, 2.0), out=block[:, p if means else 0:])
        del G
        if keep is not None:
            block = block[:, keep]
        yield rows, block if project is None else block @ project


_PATTERN_BLOCK = 1 << 22   # numbers in one block of per-pattern p × p matrices (32 MiB each)


def h1_observed_information(data: Patterns, mu: np.ndarray, sigma: np.ndarray, *, means: bool = True) -> np.ndarray:
    """−(1/N) ∂²ℓ/∂(μ, vech Σ)² in closed form (lavaan ``lav_mvnorm_missing_information_observed_samplestats``).

    Per pattern (P = Σ_k⁻¹ and T_k, D_k = s_k − n_kμ_k embedded in p × p / p with zeros), for symmetric
    perturbations E_α of Σ:
        ∂²ℓ/∂σ_α∂σ_β = −tr(P E_α P T P E_β) + ½ n tr(P E_α P E_β),
        ∂²ℓ/∂μ∂σ_α = −P E_α P D,     ∂²ℓ/∂μ∂μ' = −n P.
    tr(P E_α Q E_β) = Σ P[t, i] Q[j, s] over the entries (i, j) of E_α and (s, t) of E_β, so every pattern
    contributes to one p² × p² array built by a single matrix product over patterns.  For complete data
    at the saturated ML estimates this equals the expected information.
    """
    p = data.p
    sums = pattern_sums(data)
    K = len(sums.index)
    # with many distinct patterns (random blanks: ~one per case) the per-pattern p × p matrices are taken in
    # blocks, summing Y, Z and Σ n_k P_k over them — one block (the plain sums) up to _PATTERN_BLOCK patterns
    size = max(1, _PATTERN_BLOCK // (p * p))
    Y = np.zeros((p * p, p * p))
    Z = np.zeros((p, p, p))
    Hmm = np.zeros((p, p))
    for start in range(0, K, size):
        stop = min(K, start + size)
        Pk = np.zeros((stop - start, p, p))
        Qk = np.zeros((stop - start, p, p))
        zk = np.zeros((stop - start, p))
        nk = np.zeros(stop - start)
        for k in range(start, stop):
            o, n, s, C = sums.index[k], sums.n[k], sums.s[k], sums.C[k]
            m = mu[o]
            inv = np.linalg.inv(sigma[np.ix_(o, o)])
            sm = np.outer(s[0], m)
            T = C[0] - sm - sm.T + n[0] * np.outer(m, m)
            Pk[k - start][np.ix_(o, o)] = inv
            Qk[k - start][np.ix_(o, o)] = inv @ T @ inv - 0.5 * n[0] * inv
            zk[k - start, o] = inv @ (s[0] - n[0] * m)
            nk[k - start] = n[0]
        # Y[(t, i), (j, s)] = Σ_k P_k[t, i] Q_k[j, s]  →  tr-terms of the σσ block
        Y += Pk.reshape(len(Pk), -1).T @ Qk.reshape(len(Qk), -1)
        # μσ block: −Σ_k P_k E_α z_k  = −Σ over entries (i, j) of P_k[:, i] z_k[j]
        Z += np.einsum("kmi,kj->mij", Pk, zk)
        Hmm -= np.einsum("k,kij->ij", nk, Pk)
    H = -_vech_traces(Y, p)
    r, c = vech_indices(p)
    off = (r != c).astype(float)
    if not means:
        return -H / data.n
    Hms = -(Z[:, r, c] + off[None, :] * Z[:, c, r])
    full = np.block([[Hmm, Hms], [Hms.T, H]])
    return -full / data.n


def h1_expected_information(data: Patterns, sigma: np.ndarray, *, means: bool = True) -> np.ndarray:
    """Unit expected information of (μ, vech Σ) under the casewise likelihood at Σ (lavaan
    ``lav_mvnorm_missing_information_expected``): each pattern contributes the complete-data information of
    its answered items, n_k · blockdiag(Σ_k⁻¹, ½ tr(Σ_k⁻¹E_αΣ_k⁻¹E_β)) embedded at (o_k, o_k).

    Always positive semi-definite, so it is the Fisher-scoring metric of the multigroup FIML objective."""
    p = data.p
    K = len(data.patterns)
    size = max(1, _PATTERN_BLOCK // (p * p))      # patterns per block of p × p matrices (one per case at random)
    Y = np.zeros((p * p, p * p))
    Hmm = np.zeros((p, p))
    for start in range(0, K, size):
        pats = data.patterns[start:start + size]
        Pk = np.zeros((len(pats), p, p))
        nk = np.zeros(len(pats))
        for k, pat in enumerate(pats):
            o = pat.index
            Pk[k][np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
            nk[k] = data.case_weights(pat.rows).sum()
        Y += Pk.reshape(len(pats), -1).T @ (nk[:, None, None] * Pk).reshape(len(pats), -1)
        Hmm += np.einsum("k,kij->ij", nk, Pk)
    W = 0.5 * _vech_traces(Y, p)
    if not means:
        return W / data.n
    full = np.zeros((p + len(W), p + len(W)))
    full[:p, :p] = Hmm
    full[p:, p:] = W
    return full / data.n


def vech_trace_block(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """M[α, β] = Σ_k tr(P_k E_α Q_k E_β) for the symmetric unit perturbations E_α of vech(Σ).

    tr(P E_α Q E_β) = Σ P[t, i] Q[j, s] over the entries (i, j) of E_α and (s, t) of E_β, so all K
    matrices contribute to one p² × p² array Y[(t, i), (j, s)] = Σ_k P_k[t, i] Q_k[j, s] (one matmul).
    """
    K, p, _ = P.shape
    return _vech_traces(P.reshape(K, -1).T @ Q.reshape(K, -1), p)


def _vech_traces(Y: np.ndarray, p: int) -> np.ndarray:
    """``vech_trace_block`` from Y = Σ_k vec(P_k) vec(Q_k)' (p² × p²), which sums over blocks of k."""
    Y = Y.reshape(p, p, p, p)
    r, c = vech_indices(p)
    ent_i, ent_j = [r, c], [c, r]             # entries of E_α: (r, c) and, off the diagonal, (c, r)
    weight = [np.ones(len(r)), (r != c).astype(float)]
    M = np.zeros((len(r), len(r)))
    for a in range(2):
        for b in range(2):
            i, j = ent_i[a][:, None], ent_j[a][:, None]
            s_, t = ent_i[b][None, :], ent_j[b][None, :]
            M += weight[a][:, None] * Y[t, i, j, s_] * weight[b][None, :]
    return 0.5 * (M + M.T)


@dataclass(frozen=True)
class WeightedCases:
    """The FIML log-likelihood of R weighted copies of the data (bootstrap resamples), casewise and batched.

    Per-pattern inverses are avoided: with P = Σ⁻¹ (one p × p inverse per replicate) and the blank items M of
    a pattern, Σ_oo⁻¹ embedded in p × p is  Ĩ = P − P_{·M} K⁻¹ P_{M·},  K = P_MM  (|M| × |M|), and
    log|Σ_oo| = log|Σ| + log|K|.  With d_i = x_i − μ (blanks filled with anything: Ĩ ignores them),
    v_i = P d_i, c_i = K⁻¹ v_i[M] and y_i = Ĩ d_i = v_i − P_{·M} c_i:
        ℓ = −½ Σ_i w_i (p_i log 2π + log|Σ| + log|K_i| + d_i·v_i − v_i[M]·c_i)
        ∂ℓ/∂μ = Σ_i w_i y_i,     G = ½ (Σ_i w_i y_i y_i' − Σ_i w_i Ĩ_i).
    Cost per replicate ~ n·p² instead of Σ_k p_k³ per pattern — what makes the FIML bootstrap fast.
    """

    x0: np.ndarray                               # n × p, blanks set to 0
    n_obs: np.ndarray                            # (n,) answered items per case
    groups: tuple[tuple[np.ndarray, np.ndarray], ...]   # per number m of blanks: (case rows, (n_m, m) blank items)

    @classmethod
    def from_patterns(cls, data: Patterns) -> "WeightedCases":
        x0 = np.where(np.isnan(data.x), 0.0, data.x)
        blank = np.isnan(data.x)
        counts = blank.sum(axis=1)
        groups = []
        for m in sorted(set(counts.tolist()) - {0}):
            rows = np.flatnonzero(counts == m)
            groups.append((rows, np.array([np.flatnonzero(blank[i]) for i in rows])))
        return cls(x0, (~blank).sum(axis=1), tuple(groups))

    def loglik(self, w: np.ndarray, mu: np.ndarray, sigma: np.ndarray):
        """(ℓ[R], ∂ℓ/∂μ [R, p], G [R, p, p]) for case weights ``w`` (R, n); ℓ = −inf where Σ is not PD.

        Cases are handled in classes of equal blank count m (all one-blank cases in one numpy call, ...).
        """
        R, p = mu.shape
        try:
            chol = np.linalg.cholesky(sigma)
            bad = np.zeros(R, dtype=bool)
        except np.linalg.LinAlgError:
            bad = ~np.array([_pd(s) for s in sigma])
            sigma = np.where(bad[:, None, None], np.eye(p), sigma)
            chol = np.linalg.cholesky(sigma)
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        P = np.linalg.inv(sigma)
        P = 0.5 * (P + np.swapaxes(P, 1, 2))
        wsum = w.sum(axis=1)
        d = self.x0[None] - mu[:, None, :]                  # (R, n, p)
        v = d @ P                                           # rows are P d_i
        quad = np.einsum("rip,rip->ri", d, v)
        y = v.copy()
        extra = np.zeros(R)                                 # Σ_i w_i (log|K_i| − v_M·c_i)
        low = np.zeros((R, p, p))                           # Σ_i w_i P_{·M} K_i⁻¹ P_{M·}
        for rows, M in self.groups:
            B = P[:, M, :]                                  # (R, n_m, m, p): rows M_i of P
            K = np.take_along_axis(B, np.broadcast_to(M[None, :, None, :], B.shape[:3] + (M.shape[1],)), axis=3)
            wk = w[:, rows]
            vm = np.take_along_axis(v[:, rows], np.broadcast_to(M[None], (R,) + M.shape), axis=2)
            if M.shape[1] == 1:
                kinv = 1.0 / K
                logdet_k = np.log(K[..., 0, 0])
            else:
                kinv = np.linalg.inv(K)
                logdet_k = np.linalg.slogdet(K)[1]
            c = (kinv @ vm[..., None])[..., 0]
            F = kinv @ B                                    # K⁻¹ P_{M·}
            extra += np.einsum("ri,ri->r", wk, logdet_k - (vm * c).sum(axis=2))
            y[:, rows] -= (c[:, :, None, :] @ B)[:, :, 0, :]
            Bw = (B * wk[:, :, None, None]).reshape(R, -1, p)
            low += np.swapaxes(Bw, 1, 2) @ F.reshape(R, -1, p)
        ll = -0.5 * (LOG2PI * (w @ self.n_obs) + wsum * logdet + extra + np.einsum("ri,ri->r", w, quad))
        gmu = (w[:, None, :] @ y)[:, 0]
        yw = y * w[:, :, None]
        G = 0.5 * (np.swapaxes(yw, 1, 2) @ y - (wsum[:, None, None] * P - low))
        if bad.any():
            ll[bad] = -np.inf
            gmu[bad] = np.nan
            G[bad] = np.nan
        return ll, gmu, G
