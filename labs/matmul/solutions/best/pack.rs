//! Packing: copy a block of A or B into the order the micro-kernel reads it.
//!
//! Packed B: the panel `B[pc..pc+kc, jc..jc+nc]` cut into slivers NR columns wide; inside a
//! sliver, row p's NR values are contiguous, so the kernel reads one sliver front to back.
//! Packed A: the block `A[ic..ic+mc, pc..pc+kc]` cut into slivers MR rows tall; inside a sliver,
//! column p's MR values are contiguous (a broadcast per row, in order).
//! Edge slivers are padded with zeros so the kernel always sees full MR × NR tiles.

use super::Block;

/// Packs `B[pc..pc+kc, jc..jc+nc]` (B is row-major with `ldb` columns) into `packed`, slivers
/// `nr` columns wide; `packed` holds `kc × nc` rounded up to whole slivers.
///
/// Not inlined, and not generic over the kernel, so that a profile shows packing as a frame of
/// its own beside the micro-kernel.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(super) fn pack_b(b: &[f32], ldb: usize, pc: usize, kc: usize, jc: usize, nc: usize, nr: usize, packed: &mut [f32]) {
    packed.chunks_exact_mut(nr * kc).enumerate().for_each(|(s, sliver)| {
        let j0 = jc + s * nr;
        let cols = nr.min(jc + nc - j0);
        for (p, dst) in sliver.chunks_exact_mut(nr).enumerate() {
            let row = (pc + p) * ldb;
            dst[..cols].copy_from_slice(&b[row + j0..row + j0 + cols]);
            dst[cols..].fill(0.0);
        }
    });
}

/// Packs `A[ic..ic+mc, pc..pc+kc]` (A is row-major with `lda` columns) into `packed`, slivers
/// `mr` rows tall; `packed` holds `kc × mc` rounded up to whole slivers. Not inlined, like
/// [`pack_b`].
#[inline(never)]
pub(super) fn pack_a(a: &[f32], lda: usize, block: &Block, mr: usize, packed: &mut [f32]) {
    let Block { ic, mc, pc, kc, .. } = *block;
    for (s, sliver) in packed.chunks_exact_mut(mr * kc).enumerate() {
        let first = (ic + s * mr) * lda + pc;
        let rows = mr.min(ic + mc - (ic + s * mr));
        // A transpose, element by element: with the sliver height known at compile time the
        // compiler unrolls the inner loop and drops the bounds checks (twice as fast as a
        // runtime height: this is the costliest part of the packing).
        match (rows == mr, mr) {
            (true, 6) => pack_a_sliver::<6>(&a[first..], lda, kc, sliver),
            (true, 12) => pack_a_sliver::<12>(&a[first..], lda, kc, sliver),
            (true, 4) => pack_a_sliver::<4>(&a[first..], lda, kc, sliver),
            _ => pack_a_edge(&a[first..], lda, kc, rows, mr, sliver),
        }
    }
}

/// A full sliver: `sliver[p·MR + r] = A[r, p]` for the MR rows starting at `a[0]`.
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

/// The last sliver of a block, fewer than MR rows: rows past the edge stay zero.
fn pack_a_edge(a: &[f32], lda: usize, kc: usize, rows: usize, mr: usize, sliver: &mut [f32]) {
    sliver.fill(0.0);
    for r in 0..rows {
        for (p, &x) in a[r * lda..r * lda + kc].iter().enumerate() {
            sliver[p * mr + r] = x;
        }
    }
}
