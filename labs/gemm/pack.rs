//! Packing: copy a block of A or B into the order the micro-kernel reads it.
//!
//! Packed B: the panel `B[pc..pc+kc, jc..jc+nc]` cut into slivers NR columns wide; inside a
//! sliver, row p's NR values are contiguous, so the kernel reads one sliver front to back.
//! Packed A: the block `A[ic..ic+mc, pc..pc+kc]` cut into slivers MR rows tall; inside a sliver,
//! column p's MR values are contiguous (a broadcast per row, in order).
//! Edge slivers are padded with zeros so the kernel always sees full MR × NR tiles.
//!
//! Both take strided views ([`MatRef`]): a row-major matrix packs with unit-stride copies, and
//! a transposed one (k-NN's Yᵀ) packs straight from the untransposed data, no copy first.
//!
//! Neither is inlined nor generic over the kernel, so that a profile shows packing as a frame of
//! its own beside the micro-kernel.

use super::kernel::{AVX2_MR, AVX512_MR, PORTABLE_MR};
use super::{Block, MatRef};

/// Packs `B[pc..pc+kc, jc..jc+nc]` into `packed`, slivers `nr` columns wide; `packed` holds
/// `kc × nc` rounded up to whole slivers.
#[inline(never)]
pub fn pack_b(b: MatRef, block: &Block, nr: usize, packed: &mut [f32]) {
    let Block { pc, kc, jc, nc, .. } = *block;
    assert!(pc + kc <= b.rows && jc + nc <= b.cols, "block outside B");
    assert_eq!(packed.len(), kc * nc.next_multiple_of(nr), "packed B has room for exactly the panel");
    if kc == 0 {
        return;
    }
    packed.chunks_exact_mut(nr * kc).enumerate().for_each(|(s, sliver)| {
        let j0 = jc + s * nr;
        let cols = nr.min(jc + nc - j0);
        if b.col_stride == 1 {
            // Row-major B: each sliver row is a contiguous run of B's row.
            for (p, dst) in sliver.chunks_exact_mut(nr).enumerate() {
                let row = (pc + p) * b.row_stride;
                dst[..cols].copy_from_slice(&b.data[row + j0..row + j0 + cols]);
                dst[cols..].fill(0.0);
            }
        } else {
            // Column-major B (a transposed row-major matrix): read each column front to back.
            sliver.fill(0.0);
            for j in 0..cols {
                for p in 0..kc {
                    sliver[p * nr + j] = b.at(pc + p, j0 + j);
                }
            }
        }
    });
}

/// Packs `A[ic..ic+mc, pc..pc+kc]` into `packed`, slivers `mr` rows tall; `packed` holds
/// `kc × mc` rounded up to whole slivers.
#[inline(never)]
pub fn pack_a(a: MatRef, block: &Block, mr: usize, packed: &mut [f32]) {
    let Block { ic, mc, pc, kc, .. } = *block;
    assert!(ic + mc <= a.rows && pc + kc <= a.cols, "block outside A");
    assert_eq!(packed.len(), kc * mc.next_multiple_of(mr), "packed A has room for exactly the block");
    if kc == 0 {
        return;
    }
    for (s, sliver) in packed.chunks_exact_mut(mr * kc).enumerate() {
        let i0 = ic + s * mr;
        let rows = mr.min(ic + mc - i0);
        if a.col_stride != 1 || rows < mr {
            pack_a_any(a, i0, rows, pc, kc, mr, sliver);
            continue;
        }
        // Row-major A, a full sliver: a transpose, element by element. With the sliver height
        // known at compile time the compiler unrolls the inner loop and drops the bounds checks
        // (twice as fast as a runtime height: this is the costliest part of the packing).
        let first = &a.data[i0 * a.row_stride + pc..];
        match mr {
            AVX2_MR => pack_a_sliver::<AVX2_MR>(first, a.row_stride, kc, sliver),
            AVX512_MR => pack_a_sliver::<AVX512_MR>(first, a.row_stride, kc, sliver),
            PORTABLE_MR => pack_a_sliver::<PORTABLE_MR>(first, a.row_stride, kc, sliver),
            _ => pack_a_any(a, i0, rows, pc, kc, mr, sliver),
        }
    }
}

/// A full sliver of a row-major A: `sliver[p·MR + r] = A[r, p]` for the MR rows starting at `a[0]`.
fn pack_a_sliver<const MR: usize>(a: &[f32], lda: usize, kc: usize, sliver: &mut [f32]) {
    let rows: [&[f32]; MR] = std::array::from_fn(|r| &a[r * lda..r * lda + kc]);
    for (p, column) in sliver.chunks_exact_mut(MR).enumerate().take(kc) {
        let column: &mut [f32; MR] = column.try_into().expect("MR values");
        for (dst, row) in column.iter_mut().zip(&rows) {
            // SAFETY: p < kc and every row holds kc values (sliced above).
            *dst = unsafe { *row.get_unchecked(p) };
        }
    }
}

/// Any other sliver (the last, short one of a block, or any layout): rows past the edge stay zero.
fn pack_a_any(a: MatRef, i0: usize, rows: usize, pc: usize, kc: usize, mr: usize, sliver: &mut [f32]) {
    sliver.fill(0.0);
    if a.row_stride == 1 {
        // Column-major A (a transposed row-major matrix): each column of the sliver is contiguous.
        for p in 0..kc {
            for r in 0..rows {
                sliver[p * mr + r] = a.at(i0 + r, pc + p);
            }
        }
    } else {
        for r in 0..rows {
            for p in 0..kc {
                sliver[p * mr + r] = a.at(i0 + r, pc + p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize) -> Vec<f32> {
        (0..rows * cols).map(|i| i as f32 + 1.0).collect()
    }

    #[test]
    fn a_transposed_view_packs_like_the_transposed_copy() {
        // Y is 7×5; B = Yᵀ is 5×7. Packing the view must equal packing an explicit transpose.
        let y = matrix(7, 5);
        let transposed: Vec<f32> = (0..5 * 7).map(|e| y[(e % 7) * 5 + e / 7]).collect();
        let block = Block { ic: 0, mc: 0, pc: 1, kc: 3, jc: 2, nc: 5 };
        let (mut from_view, mut from_copy) = (vec![9.0; 3 * 8], vec![9.0; 3 * 8]); // two slivers of 4
        pack_b(MatRef::row_major(&y, 7, 5).t(), &block, 4, &mut from_view);
        pack_b(MatRef::row_major(&transposed, 5, 7), &block, 4, &mut from_copy);
        assert_eq!(from_view, from_copy);
        // Sliver 0, row p = 0: B[1, 2..6] = Y[2..6, 1]; sliver 1 holds column 6 and zeros.
        assert_eq!(&from_view[..4], &[y[2 * 5 + 1], y[3 * 5 + 1], y[4 * 5 + 1], y[5 * 5 + 1]]);
        assert_eq!(&from_view[12..16], &[y[6 * 5 + 1], 0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_slivers_hold_columns_of_mr_rows_and_zeros_past_the_edge() {
        for mr in [AVX2_MR, AVX512_MR, PORTABLE_MR, 5] {
            let (m, k) = (2 * mr + 1, 9);
            let a = matrix(m, k);
            let block = Block { ic: 0, mc: m, pc: 2, kc: 6, jc: 0, nc: 0 };
            let mut packed = vec![9.0; 6 * 3 * mr];
            pack_a(MatRef::row_major(&a, m, k), &block, mr, &mut packed);
            for s in 0..3 {
                for p in 0..6 {
                    for r in 0..mr {
                        let i = s * mr + r;
                        let expected = if i < m { a[i * k + 2 + p] } else { 0.0 };
                        assert_eq!(packed[s * 6 * mr + p * mr + r], expected, "mr {mr} sliver {s} p {p} r {r}");
                    }
                }
            }
            // A column-major view of the same A packs the same slivers.
            let column_major: Vec<f32> = (0..m * k).map(|e| a[(e % m) * k + e / m]).collect();
            let view = MatRef::row_major(&column_major, k, m).t();
            let mut from_view = vec![9.0; 6 * 3 * mr];
            pack_a(view, &block, mr, &mut from_view);
            assert_eq!(packed, from_view, "mr {mr}");
        }
    }
}
