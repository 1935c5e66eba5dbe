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

use super::kernel::{AVX2_MR, AVX2_NR, AVX512_MR, AVX512_NR, PORTABLE_MR};
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
    // Row-major B: the full slivers row by row (below), so that B is read front to back.
    let full = if b.col_stride == 1 { pack_b_full_slivers(b, block, nr, packed) } else { 0 };
    packed.chunks_exact_mut(nr * kc).enumerate().skip(full).for_each(|(s, sliver)| {
        let j0 = jc + s * nr;
        let cols = nr.min(jc + nc - j0);
        if b.col_stride == 1 {
            // Row-major B, the last sliver: its rows are cut short and padded.
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

/// Packs every full sliver of a row-major B, one row of B at a time: each row is read once, front
/// to back, and dealt out NR values to each sliver. (Sliver by sliver, B would be read down its
/// columns, each row a page apart at n = 1024: a new page and the same L1 set at every step.)
/// Returns how many slivers it packed.
fn pack_b_full_slivers(b: MatRef, block: &Block, nr: usize, packed: &mut [f32]) -> usize {
    let Block { pc, kc, jc, nc, .. } = *block;
    let full = nc / nr;
    for p in 0..kc {
        let row = &b.data[(pc + p) * b.row_stride + jc..][..full * nr];
        // The width known at compile time turns each copy into a few vector moves, where a
        // `memcpy` call per 64 or 128 bytes costs more than the copy itself.
        match nr {
            AVX2_NR => deal_row::<AVX2_NR>(row, p, kc, packed),
            AVX512_NR => deal_row::<AVX512_NR>(row, p, kc, packed),
            _ => {
                for (s, values) in row.chunks_exact(nr).enumerate() {
                    packed[(s * kc + p) * nr..][..nr].copy_from_slice(values);
                }
            }
        }
    }
    full
}

/// Row `p` of the block, NR values to each sliver: `packed[(s·kc + p)·NR + j] = row[s·NR + j]`.
#[inline(always)]
fn deal_row<const NR: usize>(row: &[f32], p: usize, kc: usize, packed: &mut [f32]) {
    for (s, values) in row.chunks_exact(NR).enumerate() {
        let values: &[f32; NR] = values.try_into().expect("NR values");
        let dst: &mut [f32; NR] = (&mut packed[(s * kc + p) * NR..][..NR]).try_into().expect("NR values");
        *dst = *values;
    }
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
    #[cfg(target_arch = "x86_64")]
    let done = if MR.is_multiple_of(4) { pack_a_by_4x4::<MR>(&rows, kc, sliver) } else { 0 };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    for (p, column) in (done..kc).zip(sliver[done * MR..kc * MR].chunks_exact_mut(MR)) {
        let column: &mut [f32; MR] = column.try_into().expect("MR values");
        for (dst, row) in column.iter_mut().zip(&rows) {
            // SAFETY: p < kc and every row holds kc values (sliced above).
            *dst = unsafe { *row.get_unchecked(p) };
        }
    }
}

/// The transpose four rows by four depth steps at a time: four 16-byte loads, a 4 × 4 transpose
/// in registers, four 16-byte stores, where the element-by-element copy above does sixteen
/// loads and sixteen stores (the matmul README has what it saved). SSE is part of every x86-64
/// CPU, so this needs no detection.
/// Returns how many depth steps it packed (a multiple of 4; the caller does the rest).
#[cfg(target_arch = "x86_64")]
fn pack_a_by_4x4<const MR: usize>(rows: &[&[f32]; MR], kc: usize, sliver: &mut [f32]) -> usize {
    use std::arch::x86_64::{
        _mm_loadu_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_storeu_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
    };
    let steps = kc / 4 * 4;
    assert!(sliver.len() >= kc * MR && rows.iter().all(|row| row.len() >= kc), "sliver or rows too short");
    for p in (0..steps).step_by(4) {
        for group in (0..MR).step_by(4) {
            // SAFETY: rows hold kc ≥ p + 4 values and the sliver kc·MR ≥ (p + 3)·MR + group + 4
            // (asserted above); unaligned loads and stores accept any address.
            unsafe {
                let [r0, r1, r2, r3] = std::array::from_fn(|i| _mm_loadu_ps(rows[group + i].as_ptr().add(p)));
                let (t0, t1) = (_mm_unpacklo_ps(r0, r1), _mm_unpacklo_ps(r2, r3)); // r0[0] r1[0] r0[1] r1[1], ...
                let (t2, t3) = (_mm_unpackhi_ps(r0, r1), _mm_unpackhi_ps(r2, r3)); // r0[2] r1[2] r0[3] r1[3], ...
                let columns =
                    [_mm_movelh_ps(t0, t1), _mm_movehl_ps(t1, t0), _mm_movelh_ps(t2, t3), _mm_movehl_ps(t3, t2)];
                for (i, column) in columns.into_iter().enumerate() {
                    _mm_storeu_ps(sliver.as_mut_ptr().add((p + i) * MR + group), column);
                }
            }
        }
    }
    steps
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
