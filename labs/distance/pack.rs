//! Rows of points packed for the GEMM micro-kernel ([`crate::gemm::kernel`]), centred and with
//! their scaled norms (see [`super::exact`]): the flagships of k-NN and k-means stream NR-wide
//! slivers of points ([`pack_points`]) against MR-tall slivers of the other set ([`pack_rows`]).

use super::exact;
use crate::gemm::kernel::MicroKernel;
use crate::gemm::transpose::transpose_blocks_centred;

/// Packs the first `count` rows of `rows` (`d` values each), centred, into MR-tall slivers:
/// sliver s holds rows s·MR.. as d columns of MR values (zeros past the last row), the order the
/// micro-kernel broadcasts them in; and the rows' scaled norms into `norms[..count]`.
pub fn pack_rows<K: MicroKernel>(
    rows: &[f32],
    d: usize,
    count: usize,
    centre: &[f32],
    packed: &mut [f32],
    norms: &mut [f32],
) {
    let scale = exact::norm_scale(d);
    for (s, sliver) in packed.chunks_exact_mut(K::MR * d).enumerate() {
        for r in 0..K::MR {
            let i = s * K::MR + r;
            if i < count {
                let row = &rows[i * d..][..d];
                for p in 0..d {
                    sliver[p * K::MR + r] = row[p] - centre[p];
                }
                norms[i] = exact::scaled_centred_norm(row, centre, scale);
            } else {
                for p in 0..d {
                    sliver[p * K::MR + r] = 0.0;
                }
            }
        }
    }
}

/// Packs the points `columns`, centred, into one NR-wide sliver (d rows of NR values, zeros past
/// the last point), and their scaled norms, summed down the sliver's rows: NR independent sums
/// the compiler vectorises, where one point's norm alone would be a chain of d dependent adds.
///
/// Not inlined into the task: compiled for the AVX-512 caller, this strided copy ran at half
/// the speed (see the k-NN lab README's flagship notes).
#[inline(never)]
pub fn pack_points<K: MicroKernel>(
    rows: &[f32],
    d: usize,
    centre: &[f32],
    columns: std::ops::Range<usize>,
    sliver: &mut [f32],
    norms: &mut [f32],
) {
    let count = columns.len();
    let (blocked, blocked_coordinates) =
        transpose_blocks_centred(K::LEVEL, rows, d, columns.clone(), centre, sliver, K::NR);
    for (j, i) in columns.enumerate() {
        let row = &rows[i * d..][..d];
        for p in if j < blocked { blocked_coordinates } else { 0 }..d {
            sliver[p * K::NR + j] = row[p] - centre[p];
        }
    }
    for packed_row in sliver.chunks_exact_mut(K::NR) {
        packed_row[count..].fill(0.0);
    }
    let norms = &mut norms[..K::NR];
    norms.fill(0.0);
    for row in sliver.chunks_exact(K::NR) {
        for (norm, &x) in norms.iter_mut().zip(row) {
            *norm += x * x;
        }
    }
    let scale = exact::norm_scale(d);
    for norm in norms {
        *norm *= scale;
    }
}
