"""The covariance of a random-intercept model, used through its per-subject blocks."""

from __future__ import annotations

import numpy as np


class RandomInterceptBlocks:
    """Random-intercept covariance V = θ_animal ZZ' + θ_resid I, used through its blocks.

    V is block diagonal (one block per subject), so V⁻¹, log|V| and every trace the REML
    derivatives need have closed forms per subject: nothing n x n is formed, and memory and
    time grow with n p² rather than n² (a 700-mice-per-group time course has 16,800 rows).
    """

    def __init__(self, subj: np.ndarray) -> None:
        self.subj = np.asarray(subj)
        self.m = int(self.subj.max()) + 1
        self.n_s = np.bincount(self.subj, minlength=self.m).astype(float)

    def zt(self, u: np.ndarray) -> np.ndarray:
        """Z'u: per-subject sums (rows of u)."""
        out = np.zeros((self.m,) + u.shape[1:])
        np.add.at(out, self.subj, u)
        return out

    def z(self, v: np.ndarray) -> np.ndarray:
        """Z v: each row gets its subject's value."""
        return v[self.subj]

    def vinv(self, theta: np.ndarray, u: np.ndarray) -> np.ndarray:
        """V⁻¹u with V_s⁻¹ = (I - c_s 11') / θ_resid, c_s = θ_animal / (θ_resid + n_s θ_animal)."""
        c = theta[0] / (theta[1] + self.n_s * theta[0])
        cz = self.zt(u) * (c if u.ndim == 1 else c[:, None])
        return (u - self.z(cz)) / theta[1]

    def logdet(self, theta: np.ndarray) -> float:
        return float(np.sum((self.n_s - 1) * np.log(theta[1]) + np.log(theta[1] + self.n_s * theta[0])))

    def apply_deriv(self, i: int, u: np.ndarray) -> np.ndarray:
        """dV/dθ_i u: ZZ'u for the animal variance, u for the residual one."""
        return self.z(self.zt(u)) if i == 0 else u

    def trace_wawb(self, theta: np.ndarray, i: int, j: int) -> float:
        """tr(V⁻¹ V_i V⁻¹ V_j), per subject with V_s⁻¹ = a I + b J (J = 11')."""
        a = 1.0 / theta[1]
        b = -theta[0] / (theta[1] + self.n_s * theta[0]) / theta[1]
        n = self.n_s
        w1 = a + b * n  # V_s⁻¹ 1 = w1 1
        if i == 1 and j == 1:
            return float(np.sum(a * a * n + 2 * a * b * n + b * b * n * n))
        if i == 0 and j == 0:
            return float(np.sum((n * w1) ** 2))
        return float(np.sum(n * w1**2))
