//! Scores and the bound on an innocent's score.
//!
//! At an observed point where the leak shows a variant in set S, and an independent
//! recipient received a variant of S with probability p (the sum of the point's biases over
//! S), the symmetric Tardos score is `+√((1−p)/p)` if their variant is in S and `−√(p/(1−p))`
//! otherwise: mean 0 and variance 1 for anyone whose variants are independent of the leak.
//! An innocent's total is a sum of such independent two-valued terms, and
//! [`tail_bound`] bounds the chance that it reaches a score z by the Chernoff bound
//! `min_λ≥0 E[e^{λ(S−z)}]`, computed exactly from the terms' distributions — a rigorous
//! bound whatever the number of points, the biases or the size of S.

/// One observed point, for an independent recipient: the probability that their variant is
/// consistent with the leak.
pub fn term(p: f64, matched: bool) -> f64 {
    if matched {
        ((1.0 - p) / p).sqrt()
    } else {
        -(p / (1.0 - p)).sqrt()
    }
}

/// Whether a probability carries information (strictly between 0 and 1).
pub fn informative(p: f64) -> bool {
    p > 1e-12 && p < 1.0 - 1e-12
}

fn log_mgf_and_moments(ps: &[f64], lambda: f64) -> (f64, f64, f64) {
    // Σ ln E e^{λX}, Σ E_λ[X], Σ Var_λ[X] (tilted).
    let (mut l, mut d1, mut d2) = (0.0, 0.0, 0.0);
    for &p in ps {
        let (a, b) = (term(p, true), term(p, false));
        let (x, y) = (lambda * a, lambda * b);
        let m = x.max(y);
        let (wa, wb) = (p * (x - m).exp(), (1.0 - p) * (y - m).exp());
        let s = wa + wb;
        l += m + s.ln();
        let (qa, qb) = (wa / s, wb / s);
        let mean = qa * a + qb * b;
        d1 += mean;
        d2 += qa * (a - mean).powi(2) + qb * (b - mean).powi(2);
    }
    (l, d1, d2)
}

/// An upper bound on P(Σ Xᵢ ≥ z) for independent Tardos terms with probabilities `ps`.
pub fn tail_bound(ps: &[f64], z: f64) -> f64 {
    let ps: Vec<f64> = ps.iter().copied().filter(|p| informative(*p)).collect();
    if z <= 0.0 || ps.is_empty() {
        return 1.0;
    }
    let max: f64 = ps.iter().map(|p| term(*p, true)).sum();
    if z > max + 1e-9 {
        return 0.0;
    }
    if z >= max - 1e-9 {
        // Only "every term matches" reaches the maximum.
        return ps.iter().map(|p| p.ln()).sum::<f64>().exp();
    }
    // f(λ) = Σ ln E e^{λX} − λz is convex, f(0) = 0, f'(0) = −z < 0: find f'(λ) = 0 by
    // safeguarded Newton steps inside a bracket that is doubled until it holds the root.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut best = f64::INFINITY;
    let mut lambda = 0.0f64;
    for _ in 0..2000 {
        let (l, d1, d2) = log_mgf_and_moments(&ps, lambda);
        best = best.min(l - lambda * z);
        let g = d1 - z;
        if g.abs() <= 1e-10 * (1.0 + z) {
            break;
        }
        if g > 0.0 {
            hi = lambda;
        } else {
            lo = lambda;
            if hi <= lo {
                hi = 2.0 * lo.max(0.5);
            }
        }
        let newton = lambda - g / d2.max(1e-300);
        lambda = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo < 1e-12 * hi.max(1.0) {
            break;
        }
    }
    // Any λ ≥ 0 gives a valid bound; the smallest value seen is the tightest.
    best.exp().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact P(Σ X ≥ z) by enumerating every outcome (small cases).
    fn exact(ps: &[f64], z: f64) -> f64 {
        let n = ps.len();
        (0u32..1 << n)
            .map(|mask| {
                let mut prob = 1.0;
                let mut s = 0.0;
                for (i, p) in ps.iter().enumerate() {
                    let hit = mask >> i & 1 == 1;
                    prob *= if hit { *p } else { 1.0 - p };
                    s += term(*p, hit);
                }
                if s >= z - 1e-12 { prob } else { 0.0 }
            })
            .sum()
    }

    #[test]
    fn terms_have_mean_zero_and_variance_one() {
        for p in [0.05, 0.2113, 0.5, 0.9] {
            let mean = p * term(p, true) + (1.0 - p) * term(p, false);
            let var = p * term(p, true).powi(2) + (1.0 - p) * term(p, false).powi(2);
            assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12, "{p}");
        }
    }

    #[test]
    fn the_bound_is_never_below_the_exact_tail() {
        let cases: [&[f64]; 4] = [
            &[0.5; 12],
            &[0.2113, 0.7887, 0.5, 0.25, 0.0625, 0.5, 0.7887, 0.2113, 0.33, 0.1],
            &[0.0625; 6],
            &[0.9, 0.8, 0.05, 0.5, 0.5, 0.3, 0.2, 0.6],
        ];
        for ps in cases {
            let max: f64 = ps.iter().map(|p| term(*p, true)).sum();
            for k in 0..=40 {
                let z = max * k as f64 / 40.0;
                let (b, e) = (tail_bound(ps, z), exact(ps, z));
                assert!(b >= e - 1e-12, "bound {b} below exact {e} at z = {z} for {ps:?}");
                assert!(b <= 1.0);
            }
            // Tight at the maximum: only "all match" reaches it.
            let all: f64 = ps.iter().product();
            assert!((tail_bound(ps, max) - all).abs() <= 1e-9 * all.max(1e-300));
        }
    }

    #[test]
    fn the_bound_is_useful() {
        // 40 fair binary points all agreeing: exactly 2^-40; Chernoff gives the same.
        let ps = [0.5; 40];
        assert!(tail_bound(&ps, 40.0) <= 1e-12);
        // Half agreeing is what an innocent does: no evidence.
        assert!(tail_bound(&ps, 0.0) >= 0.999);
        // 30 of 40 agreeing (score 20): P ≈ 9e-4; the bound is within a small factor.
        let b = tail_bound(&ps, 20.0);
        assert!(b > 9.1e-4 && b < 1e-2, "{b}");
    }
}
