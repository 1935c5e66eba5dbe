//! Rung 5, the flagship: matmul's packed micro-kernel computes the inner products, and a fused
//! top-k epilogue consumes each register tile the moment it is done.
//!
//! ```text
//! up to 8 queries: the direct form, 8 queries per pass over the points   // no packing
//! otherwise:
//! centre and pack all queries into MR-tall slivers, with their norms    // once per call
//! for each block of queries (up to 1 MiB of them packed)
//!   every thread: take the next chunk of points until none is left     // ← rayon, a counter
//!     for each NR-wide sliver of the chunk's points
//!       pack it, centred, with its norms                                // d × NR: stays in L1
//!       for each MR-tall sliver of the query block                      // streamed in order
//!         micro-kernel: MR × NR inner products, in registers            // gemm/kernel.rs, or
//!                                                                        // bf16 pairs: bf16.rs
//!         epilogue, per row: the smallest (1−ε)‖x'‖² − 2·q'·x' vs t     // one SIMD test
//!           the rare lanes that pass: exact direct-form distance, push // exact re-ranking
//!           into this thread's heap; t shared by all threads           // SharedLimits
//!   merge the threads' lists per query, sort, vote
//! ```
//!
//! The m × n distance matrix is never written (at m = 1000, n = 100 000 it would be 400 MB);
//! each MR × NR tile goes from the kernel's registers to a 1.5 KiB buffer in L1 and is filtered
//! there. Once a query's heap is full almost no lane passes the filter, so the epilogue costs
//! a fused multiply-add and a minimum per vector of inner products and one compare per row,
//! against d multiply-adds to compute them. Exactness comes from `distance::exact` (centring, a proven lower bound, re-ranking
//! with the direct form); the answer is the same for any thread count, as in `parallel`.
//!
//! Where the CPU has AVX-512 BF16 the inner products are computed from bf16 copies of the
//! centred coordinates, two multiply-adds per lane and instruction (`distance/bf16.rs`): the
//! filter's lower bound widens by bf16's rounding (`exact::epsilon_for`), a few more points are
//! re-ranked, and the answer is the same bits ([`Filter`]; chosen where a probe finds bf16 multiply-adds
//! at least 1.5x as fast as f32's; `PERFLAB_KNN_FILTER=f32|bf16` overrides the choice).

use std::marker::PhantomData;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::distance;
use crate::distance::bf16;
use crate::distance::exact::query_threshold;
use crate::distance::pack::{PackedRows, pack_set, packed_len};
use crate::distance::tiles::{Epilogue, Points, sweep};
use crate::gemm::buffers::{AlignedBuffer, BufferPool, Pool};
use crate::gemm::kernel::MicroKernel;
use crate::knn::solutions::parallel::{merge, slices};
use crate::knn::topk::TopK;
use crate::knn::{Answer, Inputs};
use crate::simd::{F32Vec, SimdLevel, WithMicroKernel, WithSimd, dispatch, dispatch_micro_kernel, simd_level};

/// A task's packed queries, swept once for every sliver of points: at most this many bytes
/// (4096 queries at d = 64). They need not fit in L2: each kernel call reads MR·d of them in
/// order (prefetched) against MR·NR·d multiply-adds, while every query block packs all the
/// points again, so fewer, larger blocks win. Measured on one Zen 4 core, m = 1000: blocks of
/// 192 KiB took 564 ms at n = 200 000, d = 128 (3 blocks) and 143 ms at n = 100 000, d = 64
/// (2 blocks), against 495 and 134 ms with one block.
const QUERY_BLOCK_BYTES: usize = 1 << 20;
/// On the GEMM path with several threads, each takes chunks of the points from a common counter
/// until none is left: this many per thread, so that a thread that runs slower (another process,
/// a busier core) ends at most a small chunk after the others, where with one slice of the points
/// per thread the fork-join waited for the slower one.
const CHUNKS_PER_WORKER: usize = 16;
/// Points per chunk at least (a chunk's fixed cost is a task's start; the heaps it pushes into are
/// the worker's, filled once per block of queries, not once per chunk).
const MIN_CHUNK: usize = 1024;
/// Up to this many queries take the direct path (no packing). Both paths read each point once
/// per call at these sizes; the GEMM form also packs it. Measured on Zen 4 at n = 100 000,
/// d = 64 (direct / GEMM): 1 core, m = 1, 2, 4, 8: 3.57 / 3.93, 3.63 / 4.05, 4.12 / 4.06,
/// 4.45 / 4.04 ms; 2 cores, m = 1, 4, 8: 1.83 / 2.17, 1.93 / 2.97, 2.32 / 2.93 ms. So one pass
/// of the direct form (8 queries) it is; a 9th query would need a second pass over the points.
const DIRECT_MAX_QUERIES: usize = GROUP;
/// Queries sharing each load of a point on the direct path: 8 accumulators, 8 rows of queries.
const GROUP: usize = 8;

pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    knn_at(simd_level(), inputs, answer);
}

/// The flagship at an explicit SIMD level, with the level's fastest filter (tests run every
/// level the CPU has).
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit the shape.
pub fn knn_at(level: SimdLevel, inputs: &Inputs, answer: &mut Answer) {
    knn_with(level, Filter::fastest(level), inputs, answer);
}

/// The arithmetic of the GEMM path's filter: the inner products that decide which points are
/// re-ranked. The answer is the same bits with either; only the speed differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// f32 fused multiply-adds, 16 per AVX-512 instruction.
    F32,
    /// bf16 pairs, 32 multiply-adds per AVX-512 BF16 instruction (`distance/bf16.rs`).
    Bf16,
}

/// The bf16 filter is chosen only where this core's bf16 multiply-add rate, probed, is at least
/// this many times its f32 rate. Its wider bound re-ranks 14-20% more points (the k-NN README), so
/// at equal rates it loses; at 2x (Zen 4) it wins by 1.7-1.8x. Where a core runs `vdpbf16ps` at
/// or below the rate of its f32 FMA pipes (an Intel Xeon measured: 0.5x), the probe keeps f32.
const MIN_BF16_RATE_GAIN: f64 = 1.5;

impl Filter {
    /// The filter for `level`: what `PERFLAB_KNN_FILTER` asks for, where the CPU runs it; else
    /// bf16 where the CPU has AVX-512 BF16, `level` is AVX-512 and the probe says bf16 pays
    /// ([`bf16::rate_over_f32`], run once); else f32.
    pub fn fastest(level: SimdLevel) -> Filter {
        if !Filter::Bf16.runs_at(level) {
            configured(); // a PERFLAB_KNN_FILTER it cannot follow still gets its note
            return Filter::F32;
        }
        Filter::choose(configured(), bf16::rate_over_f32)
    }

    /// What was asked for, if anything (and then the rate is not probed); else bf16 where its
    /// probed rate gain is at least `MIN_BF16_RATE_GAIN`.
    fn choose(asked: Option<Filter>, bf16_rate_gain: impl FnOnce() -> Option<f64>) -> Filter {
        asked.unwrap_or_else(|| {
            let pays = bf16_rate_gain().is_some_and(|gain| gain >= MIN_BF16_RATE_GAIN);
            if pays { Filter::Bf16 } else { Filter::F32 }
        })
    }

    /// `f32` or `bf16`.
    pub fn name(self) -> &'static str {
        match self {
            Filter::F32 => "f32",
            Filter::Bf16 => "bf16",
        }
    }

    /// Whether this CPU can run this filter at `level`.
    pub fn runs_at(self, level: SimdLevel) -> bool {
        self == Filter::F32 || level == SimdLevel::Avx512 && bf16::available()
    }

    /// The filters this CPU can run at `level`.
    pub fn available(level: SimdLevel) -> Vec<Filter> {
        [Filter::F32, Filter::Bf16].into_iter().filter(|f| f.runs_at(level)).collect()
    }
}

/// The filter asked for with `PERFLAB_KNN_FILTER=f32|bf16`, read once; a value that is neither
/// is ignored with a note, as is bf16 on a CPU without AVX-512 BF16.
fn configured() -> Option<Filter> {
    static ASKED: OnceLock<Option<Filter>> = OnceLock::new();
    *ASKED.get_or_init(|| {
        let asked = std::env::var("PERFLAB_KNN_FILTER").ok()?;
        match asked.as_str() {
            "f32" => Some(Filter::F32),
            "bf16" if Filter::Bf16.runs_at(crate::simd::detected()) => Some(Filter::Bf16),
            "bf16" => {
                eprintln!("note: PERFLAB_KNN_FILTER=bf16 asks for AVX-512 BF16, which this CPU lacks: using f32");
                None
            }
            _ => {
                eprintln!("note: PERFLAB_KNN_FILTER={asked} is not one of f32, bf16: using the fastest filter");
                None
            }
        }
    })
}

/// The flagship at an explicit SIMD level and filter.
///
/// # Panics
/// If the CPU lacks `level`, if `filter` is bf16 and the CPU lacks AVX-512 BF16 or `level` is
/// not AVX-512, or if the buffers do not fit the shape.
pub fn knn_with(level: SimdLevel, filter: Filter, inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    assert!(filter.runs_at(level), "this CPU cannot run the {} filter at {level}", filter.name());
    if inputs.shape.m == 0 {
        return;
    }
    if inputs.shape.m <= DIRECT_MAX_QUERIES {
        PARTIAL.with(|lists| direct(level, inputs, lists, answer));
        return;
    }
    match filter {
        Filter::F32 => dispatch_micro_kernel(level, Search { inputs, answer }),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512 and its BF16 extension (asserted above).
        Filter::Bf16 => unsafe { Search { inputs, answer }.run::<bf16::Avx512Bf16>() },
        #[cfg(not(target_arch = "x86_64"))]
        Filter::Bf16 => unreachable!("no bf16 filter off x86-64 (asserted above)"),
    }
}

/// `slices` × m × k slots of the partial lists.
fn lists_for(lists: &mut (Vec<f32>, Vec<u32>), len: usize) -> (&mut [f32], &mut [u32]) {
    let (distances, indices) = lists;
    if distances.len() < len {
        distances.resize(len, 0.0);
        indices.resize(len, 0);
    }
    (&mut distances[..len], &mut indices[..len])
}

/// Points per chunk on the GEMM path with `workers` workers: whole slivers, about
/// [`CHUNKS_PER_WORKER`] chunks each, or all of them for a single worker.
fn chunk_points(n: usize, workers: usize, nr: usize) -> usize {
    if workers == 1 {
        return n.max(1);
    }
    n.div_ceil(workers * CHUNKS_PER_WORKER).max(MIN_CHUNK).next_multiple_of(nr)
}

/// The small-batch path: the direct form, each point read once for a group of up to
/// [`GROUP`] queries (no packing, no re-ranking: these distances are already the accurate ones).
fn direct(level: SimdLevel, inputs: &Inputs, lists: &mut (Vec<f32>, Vec<u32>), answer: &mut Answer) {
    let (n, m, k) = (inputs.shape.n, inputs.shape.m, inputs.shape.k);
    let slices = slices(n);
    let (distances, indices) = lists_for(lists, slices * m * k);
    distances.par_chunks_mut(m * k).zip(indices.par_chunks_mut(m * k)).enumerate().for_each(
        |(slice, (distances, indices))| {
            let points = slice * n / slices..(slice + 1) * n / slices;
            let groups = distances.chunks_mut(GROUP * k).zip(indices.chunks_mut(GROUP * k));
            for (g, (distances, indices)) in groups.enumerate() {
                for (distances, indices) in distances.chunks_exact_mut(k).zip(indices.chunks_exact_mut(k)) {
                    TopK::new(distances, indices);
                }
                let first = g * GROUP;
                let queries = first..(first + GROUP).min(m);
                dispatch(level, DirectScan { inputs, queries, points: points.clone(), distances, indices });
            }
        },
    );
    merge(inputs, 0..m, distances, indices, answer);
}

/// One group of queries against a slice of points, into the group's heaps.
struct DirectScan<'e, 'a> {
    inputs: &'e Inputs<'a>,
    queries: std::ops::Range<usize>,
    points: std::ops::Range<usize>,
    distances: &'e mut [f32],
    indices: &'e mut [u32],
}

impl WithSimd for DirectScan<'_, '_> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        let DirectScan { inputs, queries, points, distances, indices } = self;
        let k = inputs.shape.k;
        let count = queries.len();
        // A short group repeats its last query; those lanes' results are dropped.
        let mut rows: [&[f32]; GROUP] = [inputs.query(queries.start); GROUP];
        for (j, row) in rows.iter_mut().enumerate() {
            *row = inputs.query(queries.start + j.min(count - 1));
        }
        for i in points {
            // ‖x − q‖² = ‖q − x‖², bit for bit: the point is the shared operand, loaded once.
            // SAFETY: `dispatch` enabled V; every row has d floats.
            let found = unsafe { distance::distances::<V, GROUP>(inputs.point(i), rows) };
            for j in 0..count {
                if found[j] <= distances[j * k] {
                    TopK::resume(&mut distances[j * k..][..k], &mut indices[j * k..][..k]).push(found[j], i as u32);
                }
            }
        }
    }
}

struct Search<'i, 'a, 'b> {
    inputs: &'i Inputs<'a>,
    answer: &'i mut Answer<'b>,
}

/// A call's packed queries, their norms and the centre.
static QUERIES: Pool<AlignedBuffer> = Pool::new();
/// A worker's packed sliver of points and their norms.
static SLIVER: BufferPool = BufferPool::new();
/// A call's partial lists: (distances, indices), slice by slice (direct path) or thread by thread.
static PARTIAL: Pool<(Vec<f32>, Vec<u32>)> = Pool::new();
/// A call's limits, one per query, shared by all threads (see [`SharedLimits`]).
static LIMITS: Pool<Vec<AtomicU32>> = Pool::new();

impl WithMicroKernel for Search<'_, '_, '_> {
    type Output = ();

    unsafe fn run<K: MicroKernel>(self) {
        let Search { inputs, answer } = self;
        let (m, d) = (inputs.shape.m, inputs.shape.d);
        QUERIES.with(|buffer| {
            // Centred on the training points, which the queries meet.
            let queries = pack_set::<K>(inputs.queries, inputs.train, d, buffer.slice(packed_len::<K>(m, d)));
            let partial = |lists: &mut (Vec<f32>, Vec<u32>)| {
                LIMITS.with(|limits| {
                    let limits = SharedLimits::unbounded(limits, m);
                    // SAFETY: forwarded: the CPU has K::LEVEL.
                    unsafe { search::<K>(inputs, &queries, &limits, lists, answer) }
                })
            };
            PARTIAL.with(partial);
        });
    }
}

/// Runs the query blocks one after the other. In each, one worker per thread takes chunks of the
/// points from a counter into its own heaps for the block's queries, and the workers' lists are
/// merged into the block's answers: a block at a time keeps the lists at workers × block × k
/// slots, whatever m.
///
/// # Safety
/// The CPU has `K::LEVEL`.
unsafe fn search<K: MicroKernel>(
    inputs: &Inputs,
    queries: &PackedRows,
    limits: &SharedLimits,
    lists: &mut (Vec<f32>, Vec<u32>),
    answer: &mut Answer,
) {
    let (n, d, m, k) = (inputs.shape.n, inputs.shape.d, inputs.shape.m, inputs.shape.k);
    let block = (QUERY_BLOCK_BYTES / (d * 4) / K::MR).max(1) * K::MR;
    let workers = rayon::current_num_threads();
    let chunk = chunk_points(n, workers, K::NR);
    let chunks = n.div_ceil(chunk);
    for first in (0..m).step_by(block) {
        let rows = first..(first + block).min(m);
        let len = rows.len() * k;
        let next = AtomicUsize::new(0);
        // One list of heaps per worker: each query's k best among the chunks that worker took.
        let (distances, indices) = lists_for(lists, workers * len);
        distances.par_chunks_mut(len).zip(indices.par_chunks_mut(len)).for_each(|(distances, indices)| {
            for (distances, indices) in distances.chunks_exact_mut(k).zip(indices.chunks_exact_mut(k)) {
                TopK::new(distances, indices);
            }
            SLIVER.with_slice(K::NR * d + K::NR, |scratch| {
                let (sliver, norms) = scratch.split_at_mut(K::NR * d);
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let task = Task::<K> {
                        inputs,
                        queries,
                        rows: rows.clone(),
                        points: c * chunk..(c * chunk + chunk).min(n),
                        sliver: &mut *sliver,
                        norms: &mut *norms,
                        limits,
                        distances: &mut *distances,
                        indices: &mut *indices,
                        kernel: PhantomData,
                    };
                    dispatch(K::LEVEL, task);
                }
            });
        });
        merge(inputs, rows, distances, indices, answer);
    }
}

/// One task: the queries `rows` against the points `points`, into those queries' heaps
/// (`distances` and `indices`, k slots each). Run through [`dispatch`] once per task, so that
/// the loop nest, the packing and the epilogue all compile for the SIMD level of the kernel (and
/// with no closure inside: a closure is compiled without the caller's `#[target_feature]`, so
/// every intrinsic in it would become a call).
struct Task<'t, 'a, K> {
    inputs: &'t Inputs<'a>,
    queries: &'t PackedRows<'t>,
    rows: std::ops::Range<usize>,
    points: std::ops::Range<usize>,
    /// Scratch: one packed sliver of points, their norms.
    sliver: &'t mut [f32],
    norms: &'t mut [f32],
    /// Every query's limit (indexed by query, not by row of the task).
    limits: &'t SharedLimits<'t>,
    distances: &'t mut [f32],
    indices: &'t mut [u32],
    kernel: PhantomData<K>,
}

impl<K: MicroKernel> WithSimd for Task<'_, '_, K> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        let Task { inputs, queries, rows, points, sliver, norms, limits, distances, indices, .. } = self;
        let first = rows.start;
        let mut heaps = TopKEpilogue { inputs, query_norms: queries.norms, first, limits, distances, indices };
        let points = Points { rows: inputs.train, d: inputs.shape.d, range: points };
        // SAFETY: `dispatch(K::LEVEL, ..)` runs this at V = K's level, which the CPU has (the
        // contract of `dispatch_micro_kernel`, which chose K).
        unsafe { sweep::<K, V, _>(points, queries, rows, sliver, norms, &mut heaps) };
    }
}

/// The queries `first..` of a task: their limits and heaps, which each tile's [`epilogue`] updates.
struct TopKEpilogue<'e, 'a> {
    inputs: &'e Inputs<'a>,
    query_norms: &'e [f32],
    first: usize,
    limits: &'e SharedLimits<'e>,
    distances: &'e mut [f32],
    indices: &'e mut [u32],
}

// Only `tile`: the tile goes through an L1 scratch buffer (`Epilogue::registers`'s default).
// Read from the kernel's registers instead, as k-means does, this branchy per-row filter ran 3%
// slower on Zen 4 (24 live accumulators leave it too few registers).
impl Epilogue for TopKEpilogue<'_, '_> {
    #[inline(always)]
    unsafe fn tile<V: F32Vec>(
        &mut self,
        tile: &[f32],
        nr: usize,
        rows: Range<usize>,
        points: Range<usize>,
        norms: &[f32],
    ) {
        let local = rows.start - self.first..rows.end - self.first;
        let k = self.inputs.shape.k;
        let heaps = Heaps {
            limits: self.limits,
            distances: &mut self.distances[local.start * k..local.end * k],
            indices: &mut self.indices[local.start * k..local.end * k],
        };
        // SAFETY: forwarded (the contract of `Epilogue::tile`).
        unsafe { epilogue::<V>(self.inputs, tile, nr, rows, points, self.query_norms, norms, heaps) };
    }
}

/// The tile's queries' state: the limits t of every query (a point may enter a heap only if
/// (1−ε)‖x'‖² − 2·q'·x' ≤ t) and the tile's queries' heaps, k slots each.
struct Heaps<'h> {
    limits: &'h SharedLimits<'h>,
    distances: &'h mut [f32],
    indices: &'h mut [u32],
}

/// The fused epilogue of one MR × NR tile of inner products (row r, column j at
/// `tile[r * nr + j]`) for the queries `rows` and the points `columns`: filter, re-rank, push.
///
/// # Safety
/// V's instruction set is enabled; `tile` and `point_norms` hold `nr` floats per row, nr a
/// multiple of `V::LANES`.
#[allow(clippy::too_many_arguments, reason = "the tile, its coordinates and the norms: one call per tile")]
#[inline(always)]
unsafe fn epilogue<V: F32Vec>(
    inputs: &Inputs,
    tile: &[f32],
    nr: usize,
    rows: std::ops::Range<usize>,
    columns: std::ops::Range<usize>,
    query_norms: &[f32],
    point_norms: &[f32],
    heaps: Heaps,
) {
    let Heaps { limits, distances, indices } = heaps;
    let k = inputs.shape.k;
    let valid = columns.len();
    assert!(tile.len() >= rows.len() * nr && point_norms.len() >= nr && nr.is_multiple_of(V::LANES));
    let lower = |r: usize, lane: usize| {
        // SAFETY: V is enabled (our contract); row r of the tile and the norms hold
        // nr ≥ lane + LANES floats (asserted above).
        unsafe {
            let products = V::load(tile.as_ptr().add(r * nr + lane));
            products.mul_add(V::splat(-2.0), V::load(point_norms.as_ptr().add(lane)))
        }
    };
    let every_lane = lane_mask(V::LANES);
    for (r, q) in rows.enumerate() {
        let limit = limits.get(q);
        let mut t = limit;
        if valid == nr {
            // The common case, in one test per row: the smallest lower bound of the row against t.
            let mut smallest = lower(r, 0);
            for lane in (V::LANES..nr).step_by(V::LANES) {
                // SAFETY: V is enabled.
                smallest = unsafe { smallest.min(lower(r, lane)) };
            }
            // SAFETY: V is enabled.
            if unsafe { V::bits(V::splat(t).lt(smallest)) } == every_lane {
                continue; // t < every lower bound: no point of the row can enter the heap
            }
        }
        for lane in (0..valid).step_by(V::LANES) {
            // SAFETY: V is enabled (our contract); row r of the tile and the norms hold
            // nr ≥ lane + LANES floats (asserted above).
            let mut passed = unsafe {
                let products = V::load(tile.as_ptr().add(r * nr + lane));
                let lower = products.mul_add(V::splat(-2.0), V::load(point_norms.as_ptr().add(lane)));
                // Lanes where lower ≤ t, written as "not t < lower".
                !V::bits(V::splat(t).lt(lower)) & lane_mask((valid - lane).min(V::LANES))
            };
            // The rare path: re-rank each lane that passed with the exact direct form.
            while passed != 0 {
                let i = columns.start + lane + passed.trailing_zeros() as usize;
                passed &= passed - 1;
                // SAFETY: V is enabled; both rows have d floats.
                let [distance] = unsafe { distance::distances::<V, 1>(inputs.query(q), [inputs.point(i)]) };
                let mut top = TopK::resume(&mut distances[r * k..][..k], &mut indices[r * k..][..k]);
                top.push(distance, i as u32);
                t = t.min(query_threshold(top.threshold(), query_norms[q]));
            }
        }
        if t < limit {
            limits.lower(q, t);
        }
    }
}

/// The low `count` bits set (all 32 from 32 on).
#[inline(always)]
fn lane_mask(count: usize) -> u32 {
    if count >= 32 { u32::MAX } else { (1 << count) - 1 }
}

/// Each query's limit t, shared by the threads, each of which keeps its own heap for the query.
///
/// A thread's heap, once full, proves that no point further than its k-th distance can be among
/// the query's k nearest *overall* (those k are nearer), so its limit bounds the other threads'
/// searches too: each filters with the smaller of its own and the others' limits, and fewer
/// points pass while the heaps fill (the k-NN README has the counts). Every value ever stored is
/// a valid limit and a store only lowers it, so a thread that reads a limit just before another
/// lowers it only lets a few more points through its filter: the answer never depends on timing.
struct SharedLimits<'l> {
    /// f32 bits; only ever lowered.
    limits: &'l [AtomicU32],
}

impl<'l> SharedLimits<'l> {
    /// m limits, all +∞ (every point passes until some heap is full).
    fn unbounded(limits: &'l mut Vec<AtomicU32>, m: usize) -> SharedLimits<'l> {
        limits.resize_with(m, || AtomicU32::new(0));
        for limit in &limits[..m] {
            limit.store(f32::INFINITY.to_bits(), Ordering::Relaxed);
        }
        SharedLimits { limits: &limits[..m] }
    }

    /// Query q's limit: a plain load (no fence is needed, any value seen is valid).
    #[inline(always)]
    fn get(&self, q: usize) -> f32 {
        f32::from_bits(self.limits[q].load(Ordering::Relaxed))
    }

    /// Lowers query q's limit to t, unless another task lowered it further meanwhile.
    #[inline(never)]
    fn lower(&self, q: usize, t: f32) {
        let lowered = |bits| (t < f32::from_bits(bits)).then_some(t.to_bits());
        // Err only when the limit already is t or lower: nothing to do.
        let _ = self.limits[q].fetch_update(Ordering::Relaxed, Ordering::Relaxed, lowered);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_is_chosen_only_where_its_probed_rate_pays_unless_asked() {
        assert_eq!(Filter::choose(None, || Some(2.0)), Filter::Bf16, "Zen 4: twice the f32 rate");
        assert_eq!(Filter::choose(None, || Some(MIN_BF16_RATE_GAIN)), Filter::Bf16);
        assert_eq!(Filter::choose(None, || Some(1.0)), Filter::F32, "the rate of two f32 FMA pipes");
        assert_eq!(Filter::choose(None, || None), Filter::F32, "no AVX-512 BF16");
        assert_eq!(Filter::choose(Some(Filter::F32), || Some(2.0)), Filter::F32);
        assert_eq!(Filter::choose(Some(Filter::Bf16), || Some(1.0)), Filter::Bf16);
        let not_probed = || -> Option<f64> { panic!("an asked-for filter needs no probe") };
        assert_eq!(Filter::choose(Some(Filter::F32), not_probed), Filter::F32);
    }

    #[test]
    fn the_bf16_probe_runs_where_the_cpu_has_bf16_and_is_absent_elsewhere() {
        let gain = bf16::rate_over_f32();
        assert_eq!(gain.is_some(), bf16::available());
        // Loose: the cores' rates are what they are, but the probe counts instructions right only
        // if the two rates are of the same order.
        assert!(gain.is_none_or(|g| (0.25..=8.0).contains(&g)), "bf16 / f32 rate {gain:?}");
        if let Some(g) = gain {
            eprintln!("bf16 multiply-adds at {g:.2}x the f32 rate on this core");
        }
    }
}
