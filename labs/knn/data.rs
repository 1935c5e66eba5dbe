//! k-NN's inputs: the data sets, the size syntax, and the generator (the same inputs for the
//! same seed).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::Shape;
use crate::sizes::{data_sets, parse_keyed};

/// Classes the generated labels take (the vote's work does not depend on it).
const CLASSES: u32 = 10;
/// Far from the origin: `shifted` adds this to every coordinate (the expanded form's trap).
const SHIFT: f32 = 256.0;
/// In `duplicates`, each distinct training point appears this many times.
const COPIES: usize = 8;
/// Defaults for keys a size leaves out: the size faiss, scikit-learn and numpy were measured at.
const DEFAULT: Shape = Shape { n: 100_000, d: 64, m: 1000, k: 10 };

data_sets! {
    /// How the inputs are generated (`data=` in a size, or `--data`).
    pub enum DataSet {
        /// Standard normal coordinates, points and queries alike.
        Normal = "normal",
        /// The same plus 256 on every coordinate: far from the origin, close together.
        Shifted = "shifted",
        /// Normal, but every distinct training point appears 8 times: exact ties everywhere.
        Duplicates = "duplicates",
    }
}

/// Parses `n=..,d=..,m=..,k=..[,data=..]` (any order, defaults for omitted keys) and checks the
/// sizes make a search: d ≥ 1, 1 ≤ k ≤ n.
pub fn parse_size(size: &str) -> Result<(Shape, DataSet), String> {
    let example = "n=100000,d=64,m=1000,k=10,data=shifted";
    let ([n, d, m, k], data) = parse_keyed("knn", size, ["n", "d", "m", "k"], DataSet::NAMES, example)?;
    let shape = Shape {
        n: n.unwrap_or(DEFAULT.n),
        d: d.unwrap_or(DEFAULT.d),
        m: m.unwrap_or(DEFAULT.m),
        k: k.unwrap_or(DEFAULT.k),
    };
    let data = DataSet::named(data);
    if shape.d == 0 {
        return Err(format!("knn size '{size}': d = 0, points need at least one coordinate"));
    }
    if shape.k == 0 || shape.k > shape.n {
        return Err(format!("knn size '{size}': k = {} must be between 1 and n = {}", shape.k, shape.n));
    }
    let too_large = || format!("knn size '{size}' is too large to allocate or index");
    if shape.n > u32::MAX as usize {
        return Err(too_large());
    }
    for (rows, cols) in [(shape.n, shape.d), (shape.m, shape.d), (shape.m, shape.k)] {
        rows.checked_mul(cols).filter(|&len| len <= isize::MAX as usize / 8).ok_or_else(too_large)?;
    }
    Ok((shape, data))
}

/// `rows × cols` standard normal values, plus `shift`.
fn normal_rows(rows: usize, cols: usize, shift: f32, rng: &mut StdRng) -> Vec<f32> {
    (0..rows * cols).map(|_| rng.sample::<f32, _>(StandardNormal) + shift).collect()
}

/// Generated inputs: training points, their labels and queries, the same for the same seed.
pub fn generate(shape: Shape, data: DataSet, seed: u64) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let shift = if data == DataSet::Shifted { SHIFT } else { 0.0 };
    let train = match data {
        DataSet::Duplicates => {
            let count = shape.n.div_ceil(COPIES);
            let distinct = normal_rows(count, shape.d, 0.0, &mut rng);
            (0..shape.n).flat_map(|i| &distinct[(i % count) * shape.d..][..shape.d]).copied().collect()
        }
        _ => normal_rows(shape.n, shape.d, shift, &mut rng),
    };
    let labels = (0..shape.n).map(|_| rng.random_range(0..CLASSES)).collect();
    let queries = normal_rows(shape.m, shape.d, shift, &mut rng);
    (train, labels, queries)
}
