//! Why a checked entry point refuses its input: one error type for the labs whose inputs are
//! rows of points (k-NN, k-means, Lloyd), generic over the lab's shape, which it names in
//! messages; a lab with cases of its own wraps it (Lloyd's `LloydError`).

use std::fmt;

/// A refused input. `S` is the lab's shape (printed in messages).
#[derive(Clone, Debug, PartialEq)]
pub enum InputError<S> {
    /// Points of no coordinates have no distances.
    NoCoordinates,
    /// k must be between 1 and n; `k_is` and `n_is` say what they count ("centroids", "points").
    BadK { k: usize, n: usize, k_is: &'static str, n_is: &'static str },
    /// A buffer's length does not match the shape.
    Length { what: &'static str, shape: S, expected: usize, got: usize },
    /// The inputs would not fit in memory's address space (or n does not fit an index).
    TooLarge { shape: S },
    /// A coordinate is NaN or infinite: no distance (and no error bound) exists for it.
    NonFinite { what: &'static str, row: usize, col: usize, value: f32 },
    /// A row so long that squared distances to it could overflow f32 (see [`MAX_ROW_NORM`]).
    TooLong { what: &'static str, row: usize, norm: f64 },
}

/// The longest row (Euclidean norm) a distance lab accepts: 2⁶⁰ ≈ 1.15e18.
///
/// Why: every kernel forms squared distances in f32, directly (‖x − y‖² ≤ (‖x‖ + ‖y‖)²) or
/// expanded (‖x‖² + ‖y‖² − 2·x·y, each term at most 4·max‖·‖²), and the exact-form fixes
/// centre the rows first (a centred row is at most twice as long). So nothing exceeds
/// 16·(2⁶⁰)² = 2¹²⁴, which leaves a factor of 16 below f32::MAX (≈ 2¹²⁸) for rounding and
/// for the error bounds computed beside the distances. Beyond it an f32 distance may be
/// infinite, a threshold NaN, and a top-k list would keep empty slots.
pub const MAX_ROW_NORM: f64 = (1u64 << 60) as f64;

impl<S: fmt::Display> fmt::Display for InputError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::NoCoordinates => write!(f, "d = 0: points need at least one coordinate"),
            InputError::BadK { k, n, k_is, n_is } => {
                write!(f, "k = {k} {k_is}, but k must be between 1 and the {n} {n_is}")
            }
            InputError::Length { what, shape, expected, got } => {
                write!(f, "{what}: {got} values given, but {shape} needs {expected}")
            }
            InputError::TooLarge { shape } => write!(f, "{shape} is too large to allocate or index"),
            InputError::NonFinite { what, row, col, value } => {
                write!(f, "{what} hold {value} at row {row}, coordinate {col}: every coordinate must be finite")
            }
            InputError::TooLong { what, row, norm } => write!(
                f,
                "{what}: row {row} has norm {norm:.3e}, beyond the {MAX_ROW_NORM:.3e} that f32 squared distances \
                 can afford (they reach 16 times the squared norm before rounding): scale the data down"
            ),
        }
    }
}

impl<S: fmt::Debug + fmt::Display> std::error::Error for InputError<S> {}

/// Refuses NaN and infinity in `data` (rows of `cols` values), naming the first one, and rows
/// longer than [`MAX_ROW_NORM`], naming the first of those: the input contract of every lab
/// whose kernels compute distances.
pub fn ensure_in_range<S>(what: &'static str, data: &[f32], cols: usize) -> Result<(), InputError<S>> {
    if let Some(at) = data.iter().position(|x| !x.is_finite()) {
        return Err(InputError::NonFinite { what, row: at / cols, col: at % cols, value: data[at] });
    }
    if cols == 0 {
        return Ok(());
    }
    for (row, values) in data.chunks_exact(cols).enumerate() {
        let norm = values.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
        if norm > MAX_ROW_NORM {
            return Err(InputError::TooLong { what, row, norm });
        }
    }
    Ok(())
}
