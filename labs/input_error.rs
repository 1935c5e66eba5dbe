//! Why a checked entry point refuses its input: one error type for the labs whose inputs are
//! rows of points (k-NN, k-means), generic over the lab's shape, which it names in messages.

use std::fmt;

/// A refused input. `S` is the lab's shape (printed in messages).
#[derive(Clone, Debug, PartialEq)]
pub enum InputError<S> {
    /// Points of no coordinates have no distances.
    NoCoordinates,
    /// k must be between 1 and n; `k_is` and `n_is` say what they count ("centroids", "points").
    BadK { k: usize, n: usize, k_is: &'static str, n_is: &'static str },
    /// Lloyd's iterations: at least one is needed for labels to exist.
    NoIterations,
    /// A buffer's length does not match the shape.
    Length { what: &'static str, shape: S, expected: usize, got: usize },
    /// The inputs would not fit in memory's address space (or n does not fit an index).
    TooLarge { shape: S },
    /// A coordinate is NaN or infinite: no distance (and no error bound) exists for it.
    NonFinite { what: &'static str, row: usize, col: usize, value: f32 },
}

impl<S: fmt::Display> fmt::Display for InputError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::NoCoordinates => write!(f, "d = 0: points need at least one coordinate"),
            InputError::NoIterations => write!(f, "iterations = 0: Lloyd needs at least one (assign, then update)"),
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
        }
    }
}

impl<S: fmt::Debug + fmt::Display> std::error::Error for InputError<S> {}

/// Refuses NaN and infinity in `data` (rows of `cols` values), naming the first one.
pub fn ensure_finite<S>(what: &'static str, data: &[f32], cols: usize) -> Result<(), InputError<S>> {
    match data.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(at) => Err(InputError::NonFinite { what, row: at / cols, col: at % cols, value: data[at] }),
    }
}
