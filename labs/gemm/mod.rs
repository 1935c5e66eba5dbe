//! GEMM building blocks shared by every GEMM-shaped flagship (matmul, and the distance tiles of
//! k-NN and k-means): the register-tile micro-kernels and their block sizes ([`kernel`]),
//! packing from strided views ([`pack`]), and per-thread packing buffers ([`buffers`]).
//!
//! What stays in each lab's own folder: the loop nest around these pieces and the epilogue (what
//! happens to a finished tile: stored into C for matmul, turned into distances and a top-k or an
//! argmin for the others). `matmul/solutions/best/` shows the whole picture.

pub mod blocking;
pub mod buffers;
pub mod kernel;
pub mod pack;
pub mod transpose;

/// A read-only view of an f32 matrix with arbitrary strides: element (i, j) is
/// `data[i * row_stride + j * col_stride]`. Row-major is `(cols, 1)`; its transpose is the same
/// data with the strides swapped, so a flagship can pack Yᵀ straight from a row-major Y.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// If `data` does not hold exactly `rows × cols` values.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> MatRef<'a> {
        assert_eq!(Some(data.len()), rows.checked_mul(cols), "a {rows}×{cols} matrix needs {rows}×{cols} values");
        MatRef { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose: the same data, rows and columns swapped.
    pub fn t(self) -> MatRef<'a> {
        MatRef { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }

    /// Element (i, j).
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

/// One block of a GEMM loop nest: rows `ic..ic+mc` of A (and C), depth `pc..pc+kc`, columns
/// `jc..jc+nc` of B (and C).
#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub ic: usize,
    pub mc: usize,
    pub pc: usize,
    pub kc: usize,
    pub jc: usize,
    pub nc: usize,
}
