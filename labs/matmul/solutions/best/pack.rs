//! Packing: copy a block of A or B into the order the micro-kernel reads it.
//!
//! Packed B: the panel `B[pc..pc+kc, jc..jc+nc]` cut into slivers NR columns wide; inside a
//! sliver, row p's NR values are contiguous, so the kernel reads one sliver front to back.
//! Packed A: the block `A[ic..ic+mc, pc..pc+kc]` cut into slivers MR rows tall; inside a sliver,
//! column p's MR values are contiguous (a broadcast per row, in order).
//! Edge slivers are padded with zeros so the kernel always sees full MR × NR tiles.

use super::Block;
use super::kernel::MicroKernel;

/// The tallest MR of any kernel.
const MAX_MR: usize = 12;

/// Packs `B[pc..pc+kc, jc..jc+nc]` (B is row-major with `ldb` columns) into `packed`, whose
/// length is `kc × nc` rounded up to whole slivers. Slivers are packed in parallel: B's panel
/// is shared by all tasks, so packing it is itself shared work.
pub(super) fn pack_b<K: MicroKernel>(
    b: &[f32],
    ldb: usize,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    packed: &mut [f32],
) {
    packed.chunks_exact_mut(K::NR * kc).enumerate().for_each(|(s, sliver)| {
        let j0 = jc + s * K::NR;
        let cols = K::NR.min(jc + nc - j0);
        for (p, dst) in sliver.chunks_exact_mut(K::NR).enumerate() {
            let row = (pc + p) * ldb;
            dst[..cols].copy_from_slice(&b[row + j0..row + j0 + cols]);
            dst[cols..].fill(0.0);
        }
    });
}

/// Packs `A[ic..ic+mc, pc..pc+kc]` (A is row-major with `lda` columns) into `packed`, whose
/// length is `kc × mc` rounded up to whole slivers.
pub(super) fn pack_a<K: MicroKernel>(a: &[f32], lda: usize, block: &Block, packed: &mut [f32]) {
    let Block { ic, mc, pc, kc, .. } = *block;
    for (s, sliver) in packed.chunks_exact_mut(K::MR * kc).enumerate() {
        let i0 = ic + s * K::MR;
        let rows = K::MR.min(ic + mc - i0);
        if rows < K::MR {
            sliver.fill(0.0); // the rows past the edge stay zero
        }
        // Walk the MR rows of A side by side, so that the sliver is written front to back.
        let mut a_rows: [&[f32]; MAX_MR] = [&[]; MAX_MR];
        for (r, a_row) in a_rows[..rows].iter_mut().enumerate() {
            *a_row = &a[(i0 + r) * lda + pc..][..kc];
        }
        for (p, column) in sliver.chunks_exact_mut(K::MR).enumerate() {
            for (dst, a_row) in column.iter_mut().zip(&a_rows[..rows]) {
                *dst = a_row[p];
            }
        }
    }
}
