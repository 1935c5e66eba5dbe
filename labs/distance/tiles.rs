//! The tile loop of the k-NN and k-means flagships, written once: NR-wide slivers of points,
//! packed and centred ([`pack_points`]), meet MR-tall slivers of the other set (queries or
//! centroids, packed once per call by [`super::pack::pack_set`]) in the GEMM micro-kernel
//! ([`crate::gemm::kernel`]), and every MR × NR tile of inner products goes to an [`Epilogue`]
//! the moment it is done: k-NN's keeps a top-k heap per query, k-means' a running two-smallest
//! argmin per point (faiss calls these result handlers).
//!
//! ```text
//! for each NR-wide sliver of the points                  // d × NR floats: stays in L1
//!   pack it, centred, with its scaled norms; epilogue.start_sliver
//!   for each MR-tall sliver of the packed rows
//!     prefetch a few lines of the next sliver's points
//!     micro-kernel: MR × NR inner products, in registers
//!     epilogue.registers (k-means: on the registers)     // or .tile, from an L1 scratch tile
//!   epilogue.finish_sliver
//! ```
//!
//! Two things here cost the k-means flagship 6% and 4% of its time before they were
//! mended (the lab README has the figures): a tile stored by the kernel and loaded back at once
//! by the epilogue (whole-register stores and loads of the same lines, back to back), and the
//! next sliver's points prefetched all at once (more misses in flight than the core has
//! buffers for, so the prefetches stalled the kernel behind them).

use std::marker::PhantomData;
use std::ops::Range;

pub use super::pack::PackedRows;
use super::pack::pack_points;
use crate::gemm::blocking;
use crate::gemm::kernel::{MAX_TILE, MicroKernel, TileBuffer, TileSink};
use crate::simd::F32Vec;

/// What a flagship does with the tiles of inner products of one sweep.
pub trait Epilogue {
    /// Before the tiles of a sliver: `points` are its points, `norms` their scaled norms (NR of
    /// them, zeros past the last point).
    fn start_sliver(&mut self, points: Range<usize>, norms: &[f32]) {
        let _ = (points, norms);
    }

    /// One tile: row r, column j at `tile[r * nr + j]` is the inner product of packed row
    /// `rows.start + r` and point `points.start + j` (both centred).
    ///
    /// # Safety
    /// V's instruction set is enabled; `tile` holds `rows.len()` rows of `nr` floats and `norms`
    /// `nr` floats, nr a multiple of `V::LANES`.
    unsafe fn tile<V: F32Vec>(
        &mut self,
        tile: &[f32],
        nr: usize,
        rows: Range<usize>,
        points: Range<usize>,
        norms: &[f32],
    );

    /// The same tile straight from the micro-kernel's registers: `acc[r][v]` holds row r,
    /// columns `v·LANES..`; rows past `rows.len()` are padding. The default stores it into
    /// `scratch` (MR·NV·LANES floats at least) and calls [`Self::tile`].
    ///
    /// # Safety
    /// V's instruction set is enabled; `norms` holds NV·LANES floats.
    #[inline(always)]
    unsafe fn registers<V: F32Vec, const MR: usize, const NV: usize>(
        &mut self,
        acc: &[[V; NV]; MR],
        scratch: &mut [f32],
        rows: Range<usize>,
        points: Range<usize>,
        norms: &[f32],
    ) {
        let nr = NV * V::LANES;
        let tile = &mut scratch[..MR * nr];
        for (r, acc_r) in acc.iter().enumerate() {
            for (v, acc_rv) in acc_r.iter().enumerate() {
                // SAFETY: V is enabled (our contract); row r's vector v is inside the tile.
                unsafe { acc_rv.store(tile.as_mut_ptr().add(r * nr + v * V::LANES)) };
            }
        }
        // SAFETY: V is enabled; the tile holds MR ≥ rows.len() rows of nr floats.
        unsafe { self.tile::<V>(tile, nr, rows, points, norms) };
    }

    /// After the sliver's last tile.
    ///
    /// # Safety
    /// V's instruction set is enabled.
    unsafe fn finish_sliver<V: F32Vec>(&mut self, points: Range<usize>, norms: &[f32]) {
        let _ = (points, norms);
    }
}

/// The points' side of a sweep: the rows (`d` values each) and which of them.
pub struct Points<'a> {
    pub rows: &'a [f32],
    pub d: usize,
    pub range: Range<usize>,
}

/// Streams `points` against the packed rows `rows`, handing every tile to `epilogue`. `sliver`
/// (NR·d floats) and `norms` (NR) are scratch for one packed sliver of points.
///
/// # Safety
/// The CPU has `K::LEVEL`, and V's instruction set is enabled: call it from inside
/// `dispatch(K::LEVEL, ..)` with the K that `dispatch_micro_kernel` chose.
#[inline(always)]
pub unsafe fn sweep<K: MicroKernel, V: F32Vec, E: Epilogue>(
    points: Points,
    packed: &PackedRows,
    rows: Range<usize>,
    sliver: &mut [f32],
    norms: &mut [f32],
    epilogue: &mut E,
) {
    // Long rows are cut into depth blocks of the GEMM's kc (`gemm/blocking.rs`).
    let depth = blocking::sizes(K::LEVEL).kc;
    // SAFETY: forwarded (our contract).
    unsafe { sweep_in_depth_blocks::<K, V, E>(depth, points, packed, rows, sliver, norms, epilogue) }
}

/// [`sweep`] with rows cut into blocks of `depth` coordinates (a test forces small ones).
///
/// # Safety
/// As [`sweep`].
#[inline(always)]
unsafe fn sweep_in_depth_blocks<K: MicroKernel, V: F32Vec, E: Epilogue>(
    depth: usize,
    points: Points,
    packed: &PackedRows,
    rows: Range<usize>,
    sliver: &mut [f32],
    norms: &mut [f32],
    epilogue: &mut E,
) {
    let Points { rows: data, d, range } = points;
    assert!(depth > 0 && d > 0);
    // Depth steps of the kernel: d, or ⌈d/2⌉ for bf16 pairs.
    let slots = K::OPERANDS.slots(d);
    // The depth blocks before the last one add up in `tile`; the last one's tile goes to the
    // epilogue from the registers (through `scratch` for an epilogue that reads memory).
    let (mut tile, mut scratch) = (TileBuffer([0.0f32; MAX_TILE]), TileBuffer([0.0f32; MAX_TILE]));
    let (tile, scratch) = (&mut tile.0, &mut scratch.0);
    for first in range.clone().step_by(K::NR) {
        let columns = first..(first + K::NR).min(range.end);
        pack_points::<K>(data, d, packed.centre, columns.clone(), sliver, norms);
        // The next sliver's points come from memory while this one's tiles run, a few lines
        // per tile: all at once, they would fill the core's miss buffers and stall the kernel.
        let next = &data[columns.end * d..(columns.end + K::NR).min(range.end) * d];
        let per_tile = next.len().div_ceil(rows.len().div_ceil(K::MR)).next_multiple_of(LINE_FLOATS);
        let mut next = next.chunks(per_tile.max(LINE_FLOATS));
        epilogue.start_sliver(columns.clone(), norms);
        for top in rows.clone().step_by(K::MR) {
            prefetch(next.next().unwrap_or_default());
            let a = &packed.rows[top * slots..][..K::MR * slots];
            let last = (slots - 1) / depth * depth;
            for pc in (0..last).step_by(depth) {
                // SAFETY: the CPU has K::LEVEL (our contract); `run` checks the slices.
                unsafe { K::run(depth, &a[pc * K::MR..], &sliver[pc * K::NR..], tile, K::NR, pc == 0) };
            }
            let tile_rows = top..(top + K::MR).min(rows.end);
            // The last sliver of rows may be mostly padding: the kernel can skip it.
            let real_rows = tile_rows.len();
            let to_epilogue = ToEpilogue::<E, V> {
                epilogue: &mut *epilogue,
                scratch: &mut scratch[..],
                rows: tile_rows,
                points: columns.clone(),
                norms,
                vector: PhantomData,
            };
            let init = (last > 0).then_some(&tile[..]);
            let (a, b) = (&a[last * K::MR..], &sliver[last * K::NR..]);
            // SAFETY: the CPU has K::LEVEL (our contract); `run_into` checks the slices.
            unsafe { K::run_into(slots - last, a, b, init, real_rows, to_epilogue) };
        }
        // SAFETY: V is enabled (our contract).
        unsafe { epilogue.finish_sliver::<V>(columns, norms) };
    }
}

/// Floats per 64-byte cache line.
const LINE_FLOATS: usize = 16;

/// Hands a finished tile to the epilogue, from the registers or from memory.
struct ToEpilogue<'e, E, V> {
    epilogue: &'e mut E,
    scratch: &'e mut [f32],
    rows: Range<usize>,
    points: Range<usize>,
    norms: &'e [f32],
    /// The vector type of the sweep, for a tile in memory.
    vector: PhantomData<V>,
}

impl<E: Epilogue, V: F32Vec> TileSink for ToEpilogue<'_, E, V> {
    #[inline(always)]
    unsafe fn registers<W: F32Vec, const MR: usize, const NV: usize>(self, acc: &[[W; NV]; MR]) {
        // SAFETY: W is enabled (the sink's contract); `norms` holds NR = NV·LANES floats.
        unsafe { self.epilogue.registers::<W, MR, NV>(acc, self.scratch, self.rows, self.points, self.norms) }
    }

    #[inline(always)]
    unsafe fn memory(self, tile: &[f32], nr: usize) {
        // SAFETY: V is K's level (the sweep's contract), which the sink's contract enables; the
        // tile holds MR rows of NR products, NR a multiple of every level's lanes.
        unsafe { self.epilogue.tile::<V>(tile, nr, self.rows, self.points, self.norms) }
    }
}

/// Asks the CPU to bring `data` into its caches, one request per 64-byte line: a hint, it
/// changes no value. (The hardware's own prefetcher follows a stream only a few lines ahead,
/// not the NR·d floats the next sliver reads after thousands of cycles of tiles.)
#[inline(always)]
pub fn prefetch(data: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in data.chunks(LINE_FLOATS) {
        // SAFETY: a prefetch reads nothing architecturally; the address is inside `data`.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::exact;
    use crate::distance::pack::{pack_set, packed_len};
    use crate::gemm::kernel::Operands;
    use crate::simd::{SimdLevel, WithMicroKernel, WithSimd, dispatch, dispatch_micro_kernel};

    /// Every product the sweep hands out: (packed row, point, value).
    #[derive(Default)]
    struct Record(Vec<(usize, usize, f32)>);

    impl Epilogue for Record {
        unsafe fn tile<V: F32Vec>(
            &mut self,
            tile: &[f32],
            nr: usize,
            rows: Range<usize>,
            points: Range<usize>,
            _norms: &[f32],
        ) {
            for (r, row) in rows.enumerate() {
                for (j, point) in points.clone().enumerate() {
                    self.0.push((row, point, tile[r * nr + j]));
                }
            }
        }
    }

    struct Sweep<'a> {
        depth: usize,
        d: usize,
        rows: &'a [f32],
        points: &'a [f32],
    }

    impl WithMicroKernel for Sweep<'_> {
        type Output = (Vec<f32>, Vec<(usize, usize, f32)>);

        unsafe fn run<K: MicroKernel>(self) -> Self::Output {
            let d = self.d;
            let mut scratch = vec![0.0; packed_len::<K>(self.rows.len() / d, d)];
            let packed = pack_set::<K>(self.rows, self.points, d, &mut scratch);
            let centre = packed.centre.to_vec();
            let task = SweepAtLevel::<K> { sweep: self, packed: &packed, kernel: PhantomData };
            (centre, dispatch(K::LEVEL, task))
        }
    }

    struct SweepAtLevel<'a, 'p, K> {
        sweep: Sweep<'a>,
        packed: &'p PackedRows<'p>,
        kernel: PhantomData<K>,
    }

    impl<K: MicroKernel> WithSimd for SweepAtLevel<'_, '_, K> {
        type Output = Vec<(usize, usize, f32)>;

        unsafe fn run<V: F32Vec>(self) -> Self::Output {
            let Sweep { depth, d, rows, points } = self.sweep;
            let (mut sliver, mut norms, mut record) = (vec![0.0; K::NR * d], vec![0.0; K::NR], Record::default());
            let points = Points { rows: points, d, range: 1..points.len() / d };
            // SAFETY: run by `dispatch(K::LEVEL, ..)` inside `dispatch_micro_kernel`.
            unsafe {
                sweep_in_depth_blocks::<K, V, _>(
                    depth,
                    points,
                    self.packed,
                    0..rows.len() / d,
                    &mut sliver,
                    &mut norms,
                    &mut record,
                )
            };
            record.0
        }
    }

    /// Depth blocks of every size (one coordinate, a few, not dividing d, all of it) give every
    /// product of a centred row and a centred point once, within the dot product's error bound,
    /// at every SIMD level; points from the second on (a range that starts inside the data);
    /// last slivers of rows with 1, 4 (a third of AVX-512's 12) and 5 real rows.
    #[test]
    fn a_sweep_in_depth_blocks_hands_out_every_centred_product_once() {
        for count in [25, 28, 29] {
            sweep_in_depth_blocks_of_every_size(count);
        }
    }

    /// The bf16 kernel's worst case, where every rounding error points the same way: coordinates
    /// ±v with v just below the tie 1 + 2⁻⁸, which all round down to ±1 (the signs balanced, so
    /// the centre is 0), and each row met by an identical point. Then 2·|error| comes within
    /// 1% of the bf16 share of the filter's ε: a bound with half that share fails here.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_bf16_kernel_meets_its_bound_where_every_rounding_error_aligns() {
        if !super::super::bf16::available() {
            return;
        }
        let (d, n) = (13, 70);
        let v = (1.0f32 + 2f32.powi(-8)).next_down();
        let sign = |i: usize, p: usize| if (i + p / 3).is_multiple_of(2) { v } else { -v };
        let points: Vec<f32> = (0..n * d).map(|i| sign(i / d, i % d)).collect();
        let rows = points.clone();
        let share = exact::epsilon_for(d, Operands::Bf16Pairs) - exact::epsilon(d);
        let sweep = Sweep { depth: 640, d, rows: &rows, points: &points };
        // SAFETY: the CPU has AVX-512 (with BF16, checked above), the kernel's LEVEL.
        let (centre, products) = unsafe { sweep.run::<super::super::bf16::Avx512Bf16>() };
        assert!(centre.iter().all(|&c| c == 0.0), "balanced signs centre on 0");
        let mut tightest: f64 = 0.0;
        for (row, point, got) in products {
            let exact: f64 = (0..d).map(|p| rows[row * d + p] as f64 * points[point * d + p] as f64).sum();
            let norms: f64 = 2.0 * d as f64 * (v as f64).powi(2);
            let used = 2.0 * (got as f64 - exact).abs() / (share * norms);
            assert!(used <= 1.0, "({row}, {point}): {got} vs {exact}, {used:.4} of the bound");
            tightest = tightest.max(used);
        }
        assert!(tightest > 0.99, "the worst case should use the whole bound: {tightest:.4}");
    }

    fn sweep_in_depth_blocks_of_every_size(count: usize) {
        let (d, n) = (13, 70);
        let value = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) / 97.0;
        let rows: Vec<f32> = (0..count * d).map(value).collect();
        let points: Vec<f32> = (0..n * d).map(|i| value(i + 31) + 3.0).collect();
        let gamma = d as f64 * f64::from(f32::EPSILON) / 2.0 / (1.0 - d as f64 * f64::from(f32::EPSILON) / 2.0);
        for level in SimdLevel::available() {
            for depth in [1, 4, 5, 13, 640] {
                let sweep = Sweep { depth, d, rows: &rows, points: &points };
                let (centre, products) = dispatch_micro_kernel(level, sweep);
                // The f32 filter's whole ε covers the products' share (and the rest).
                let case = format!("{level}, depth {depth}");
                check_products(&case, (&rows, &points, d, count, n), &centre, products, (gamma, exact::epsilon(d)));
            }
        }
        // The bf16 kernel: each centred coordinate rounded to bf16 (2⁻⁸), products exact, sums in f32.
        #[cfg(target_arch = "x86_64")]
        if super::super::bf16::available() {
            use super::super::exact::BF16_UNIT_ROUNDOFF as ub;
            let bound = 2.0 * ub + ub * ub + 2.0 * gamma * (1.0 + ub).powi(2);
            let share = exact::epsilon_for(d, Operands::Bf16Pairs) - exact::epsilon(d);
            for depth in [1, 4, 5, 7, 640] {
                let sweep = Sweep { depth, d, rows: &rows, points: &points };
                // SAFETY: the CPU has AVX-512 (with BF16, checked above), the kernel's LEVEL.
                let (centre, products) = unsafe { sweep.run::<super::super::bf16::Avx512Bf16>() };
                let case = format!("bf16, depth {depth}");
                check_products(&case, (&rows, &points, d, count, n), &centre, products, (bound, share));
            }
        }
    }

    /// Every (row, point ≥ 1) pair once, each product within `bound` · Σ|terms| of the centred
    /// product in f64, and twice its error within `filter` · (‖r'‖² + ‖x'‖²): the share of the
    /// filter's ε (`exact::epsilon_for`) that the products rely on, the bound the filter uses
    /// rather than the test's own.
    fn check_products(
        case: &str,
        (rows, points, d, count, n): (&[f32], &[f32], usize, usize, usize),
        centre: &[f32],
        mut products: Vec<(usize, usize, f32)>,
        (bound, filter): (f64, f64),
    ) {
        products.sort_by_key(|&(row, point, _)| (row, point));
        let pairs: Vec<(usize, usize)> = products.iter().map(|&(r, p, _)| (r, p)).collect();
        let expected: Vec<(usize, usize)> = (0..count).flat_map(|r| (1..n).map(move |p| (r, p))).collect();
        assert_eq!(pairs, expected, "{case}");
        for (row, point, got) in products {
            let centred = |data: &[f32], i: usize, p: usize| (data[i * d + p] - centre[p]) as f64;
            let terms = (0..d).map(|p| centred(rows, row, p) * centred(points, point, p));
            let (sum, magnitude) = terms.fold((0.0, 0.0), |(s, m), t| (s + t, m + t.abs()));
            let error = (got as f64 - sum).abs();
            assert!(error <= bound * magnitude, "{case}: ({row}, {point}) {got} vs {sum}");
            let norms: f64 = (0..d).map(|p| centred(rows, row, p).powi(2) + centred(points, point, p).powi(2)).sum();
            assert!(2.0 * error <= filter * norms, "{case}: ({row}, {point}) outside the filter's ε");
        }
    }
}
