//! Rows of points packed for the GEMM micro-kernel ([`crate::gemm::kernel`]), centred and with
//! their scaled norms (see [`super::exact`]): the flagships of k-NN and k-means stream NR-wide
//! slivers of points ([`pack_points`]) against MR-tall slivers of the other set ([`pack_set`]).

use super::{bf16, exact};
use crate::gemm::kernel::{MicroKernel, Operands};
use crate::gemm::transpose::transpose_centred;

/// One set packed for [`super::tiles::sweep`]: its rows centred, in MR-tall slivers (sliver s
/// holds rows s·MR.. as d columns of MR values, zeros past the last row: the order the
/// micro-kernel broadcasts them in; for bf16 operands ⌈d/2⌉ columns of pairs), their scaled
/// norms less the absolute slack (+∞ past the last row, so that a padded row never passes a
/// filter), and the centre that both sets are taken from.
pub struct PackedRows<'a> {
    pub centre: &'a [f32],
    pub rows: &'a [f32],
    pub norms: &'a [f32],
}

/// Floats of scratch [`pack_set`] needs for `count` rows of `d` values.
pub fn packed_len<K: MicroKernel>(count: usize, d: usize) -> usize {
    let padded = count.div_ceil(K::MR) * K::MR;
    d + padded * d + padded
}

/// Packs the rows of `rows` (`d` values each) into `scratch` ([`packed_len`] floats at least),
/// centred on the mean of (a sample of) `centre_of`'s rows ([`exact::centre`]).
pub fn pack_set<'s, K: MicroKernel>(
    rows: &[f32],
    centre_of: &[f32],
    d: usize,
    scratch: &'s mut [f32],
) -> PackedRows<'s> {
    let count = rows.len() / d;
    let padded = count.div_ceil(K::MR) * K::MR;
    let slots = K::OPERANDS.slots(d);
    let (centre, rest) = scratch.split_at_mut(d);
    let (packed, rest) = rest.split_at_mut(padded * d);
    let packed = &mut packed[..padded * slots];
    let norms = &mut rest[..padded];
    exact::centre(centre_of, d, centre);
    let scale = exact::norm_scale_for(d, K::OPERANDS);
    let absolute = exact::absolute_slack(d, K::OPERANDS);
    for (s, sliver) in packed.chunks_exact_mut(K::MR * slots).enumerate() {
        for r in 0..K::MR {
            let i = s * K::MR + r;
            if i >= count {
                for p in 0..slots {
                    sliver[p * K::MR + r] = 0.0;
                }
                norms[i] = f32::INFINITY;
                continue;
            }
            let row = &rows[i * d..][..d];
            match K::OPERANDS {
                Operands::F32 => {
                    for p in 0..d {
                        sliver[p * K::MR + r] = row[p] - centre[p];
                    }
                }
                Operands::Bf16Pairs => {
                    for p in 0..slots {
                        let coordinate = |c: usize| if c < d { row[c] - centre[c] } else { 0.0 };
                        sliver[p * K::MR + r] = bf16::pair(coordinate(2 * p), coordinate(2 * p + 1));
                    }
                }
            }
            norms[i] = exact::scaled_centred_norm(row, centre, scale) - absolute;
        }
    }
    PackedRows { centre, rows: packed, norms }
}

/// Packs the points `columns`, centred, into one NR-wide sliver (d rows of NR values, zeros past
/// the last point), and their scaled norms, summed down the sliver's rows: NR independent sums
/// the compiler vectorises, where one point's norm alone would be a chain of d dependent adds.
/// For bf16 operands the f32 rows are then paired in place (⌈d/2⌉ rows of NR pairs); the norms
/// stay those of the f32 values.
///
/// Not inlined into the task, so that a profile shows the packing as a frame of its own (the
/// strided copy inside, [`transpose_centred`], has a reason of its own not to be inlined).
#[inline(never)]
pub fn pack_points<K: MicroKernel>(
    rows: &[f32],
    d: usize,
    centre: &[f32],
    columns: std::ops::Range<usize>,
    sliver: &mut [f32],
    norms: &mut [f32],
) {
    transpose_centred(K::LEVEL, rows, d, columns, centre, sliver, K::NR);
    let norms = &mut norms[..K::NR];
    norms.fill(0.0);
    for row in sliver.chunks_exact(K::NR) {
        for (norm, &x) in norms.iter_mut().zip(row) {
            *norm += x * x;
        }
    }
    let scale = exact::norm_scale_for(d, K::OPERANDS);
    for norm in norms.iter_mut() {
        *norm *= scale;
    }
    if K::OPERANDS == Operands::Bf16Pairs {
        bf16::pair_rows(sliver, d, K::NR);
    }
}
