//! The inputs the k-means labs generate: points around centres (or not), and k of them as the
//! initial centroids, the same for the same seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::Shape;
use crate::sizes::data_sets;

/// Far from the origin: `shifted` adds this to every coordinate.
const SHIFT: f32 = 256.0;
/// Spread of the true centres of `blobs` (each point is its centre plus standard normal noise).
const BLOB_SPREAD: f32 = 5.0;
data_sets! {
    /// How the inputs are generated (`data=` in a size, or `--data`).
    pub enum DataSet {
        /// Points around k true centres, as real clustering input looks; the centroids are k points.
        Blobs = "blobs",
        /// Standard normal points; the centroids are k of them.
        Normal = "normal",
        /// Normal plus 256 on every coordinate: the expanded form's trap.
        Shifted = "shifted",
    }
}

/// Whether `shape` (parsed from `size`) makes an assignment: d ≥ 1, 1 ≤ k ≤ n, and it fits.
pub fn check_shape(lab: &str, size: &str, shape: Shape) -> Result<(), String> {
    if shape.d == 0 {
        return Err(format!("{lab} size '{size}': d = 0, points need at least one coordinate"));
    }
    if shape.k == 0 || shape.k > shape.n {
        return Err(format!("{lab} size '{size}': k = {} must be between 1 and n = {}", shape.k, shape.n));
    }
    if shape.k >= 1 << 24 || shape.n.checked_mul(shape.d).is_none_or(|len| len > isize::MAX as usize / 8) {
        return Err(format!("{lab} size '{size}' is too large to allocate or index"));
    }
    Ok(())
}

/// Generated inputs: the points and the centroids (k of the points), the same for the same seed.
pub fn generate(shape: Shape, data: DataSet, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let Shape { n, d, k } = shape;
    let normal = |rng: &mut StdRng| rng.sample::<f32, _>(StandardNormal);
    let points: Vec<f32> = match data {
        DataSet::Blobs => {
            let centres: Vec<f32> = (0..k * d).map(|_| BLOB_SPREAD * normal(&mut rng)).collect();
            let mut points = Vec::with_capacity(n * d);
            for _ in 0..n {
                let centre = rng.random_range(0..k);
                points.extend(centres[centre * d..][..d].iter().map(|&c| c + normal(&mut rng)));
            }
            points
        }
        DataSet::Normal => (0..n * d).map(|_| normal(&mut rng)).collect(),
        DataSet::Shifted => (0..n * d).map(|_| normal(&mut rng) + SHIFT).collect(),
    };
    // Centroids: k distinct points, as a k-means initialisation would pick them.
    let step = n / k;
    let centroids = (0..k).flat_map(|j| points[(j * step + rng.random_range(0..step)) * d..][..d].to_vec()).collect();
    (points, centroids)
}
