//! What "correct" means for a squared distance computed in f32: its error bound (the oracles of
//! every distance lab, and the bounds of Hamerly's skip test, are built from it), and the true
//! distance in f64 to hold it against.
//!
//! A squared distance is an f32 sum of d squares of rounded differences. In any summation order,
//! with or without FMA, its error is at most `γ_{d+3} · D` (Higham, *Accuracy and Stability of
//! Numerical Algorithms*, §3.1: every term is non-negative, so the relative bound of a dot product
//! holds for the whole sum), where D is the true distance and `γ_j = j·u / (1 − j·u)`,
//! u = 2⁻²⁴, plus what underflow adds ([`underflow_bound`]).

/// The f32 unit roundoff, u = 2⁻²⁴.
pub const UNIT_ROUNDOFF: f64 = f32::EPSILON as f64 / 2.0;

/// The relative error bound of a d-coordinate squared distance in f32: `γ_{d+3}`.
pub fn relative_bound(d: usize) -> f64 {
    let ju = (d + 3) as f64 * UNIT_ROUNDOFF;
    ju / (1.0 - ju)
}

/// A squared distance's error bound: relative, plus the absolute error of underflow.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    pub relative: f64,
    pub absolute: f64,
}

impl Bound {
    /// The bound of a d-coordinate squared distance computed in f32.
    pub fn of(d: usize) -> Bound {
        Bound { relative: relative_bound(d), absolute: underflow_bound(d) }
    }

    /// How far a computed distance may be from the true distance `exact`.
    pub fn at(&self, exact: f64) -> f64 {
        self.relative * exact + self.absolute
    }
}

/// The absolute error that underflow can add to a d-coordinate squared distance in f32, beside
/// the relative [`relative_bound`]: a product or fused multiply-add whose result is below f32's
/// normal range is rounded to a multiple of the smallest subnormal, 2⁻¹⁴⁹, so it may be off by
/// half of that (sums of subnormals are exact). Each distance form makes at most 4d + 12 such
/// roundings (direct: d; expanded: three dot products plus the combination). At 1e-30 per
/// coordinate every square is 1e-60 and rounds to 0: the error is all underflow.
pub fn underflow_bound(d: usize) -> f64 {
    (4 * d + 12) as f64 * f64::from(f32::from_bits(1))
}

/// ‖a − b‖² in f64: exact differences of f32 values, products and sums a billion times finer
/// than f32's.
pub fn true_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum()
}
