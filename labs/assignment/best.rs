//! Rung 4, the flagship: matmul's packed micro-kernel with the centroids as the broadcast operand
//! and the points as the vector lanes, and a fused argmin epilogue.
//!
//! ```text
//! centre and pack the centroids into MR-tall slivers, with their norms      // once per call
//! for each chunk of 4096 points                                              // ← rayon
//!   for each NR-wide sliver of points
//!     pack it, centred, with its norms                                       // d × NR: in L1
//!     for each MR-tall sliver of centroids                                   // k·d: in L1/L2
//!       micro-kernel: MR centroids × NR points of inner products             // gemm/kernel.rs
//!       epilogue, one vector of points at a time, down the tile's rows: keep
//!         the two smallest scores (1−ε)‖c'‖² − 2·c'·x' and the nearest's index
//!     per point: exact distance to the nearest; if the second smallest lower bound
//!       exceeds it, done (a near-tie: compare every centroid exactly)
//!   the chunk's inertia, in f64, into its own slot
//! ```
//!
//! Unlike k-NN's flagship, the points (n = 10⁶) are the lanes: each point's best-so-far is a
//! lane of a vector, and the argmin runs down the tile's rows, a vertical minimum that needs no
//! shuffles. The n × k distance matrix is never written. Exactness comes from `distance::exact`, as in
//! `blocked`; labels and inertia are the same bits on any thread count, as in `parallel`.
//!
//! That is the GEMM form. With few centroids or k·d ≤ 1024 (on AMD's Zen cores ≤ 2048) the
//! flagship takes the direct form Σ(x − c)² instead, the points still as lanes and the centroids'
//! coordinates broadcast: [`Form`] says which, and why.

use std::marker::PhantomData;
use std::ops::Range;

use super::{Answer, Inputs, Shape, assign_in_chunks};
use crate::cpu;
use crate::distance::distances;
use crate::distance::pack::{PackedRows, pack_set, packed_len};
use crate::distance::tiles::{Epilogue, Points, prefetch, sweep};
use crate::gemm::buffers::{AlignedBuffer, BufferPool, Pool};
use crate::gemm::kernel::MicroKernel;
use crate::gemm::transpose::transpose_centred;
use crate::simd::{F32Vec, SimdLevel, WithMicroKernel, WithSimd, dispatch, dispatch_micro_kernel, simd_level};

/// A call's centre, packed centroids and their scaled norms.
static CENTROIDS: Pool<AlignedBuffer> = Pool::new();
/// A task's packed sliver of points, the points' norms, limits and best distances.
static SLIVER: BufferPool = BufferPool::new();

pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    assign_at(simd_level(), inputs, answer);
}

/// The flagship at an explicit SIMD level (tests run every level the CPU has).
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit the shape.
pub fn assign_at(level: SimdLevel, inputs: &Inputs, answer: &mut Answer) {
    assign_in(level, Form::for_shape(inputs.shape), inputs, answer);
}

/// [`assign_at`] in a chosen form (tests run both on every CPU).
pub(crate) fn assign_in(level: SimdLevel, form: Form, inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    assign_points(level, form, inputs, answer, None);
}

/// The flagship's assignment with, for Lloyd's bounds (`solutions/hamerly.rs`), each point's
/// **runner-up**: a lower bound of the direct-form distance of every centroid but its label.
/// Unlike [`assign_at`] it accepts fewer points than centroids (a few points re-assigned).
///
/// # Panics
/// If the CPU lacks `level`, or a buffer's length does not fit the shape.
pub(crate) fn assign_with_runner_up(level: SimdLevel, inputs: &Inputs, answer: &mut Answer, runner_up: &mut [f32]) {
    assign_with_runner_up_in(level, Form::for_shape(inputs.shape), inputs, answer, runner_up);
}

/// [`assign_with_runner_up`] in a chosen form (tests run both).
pub(crate) fn assign_with_runner_up_in(
    level: SimdLevel,
    form: Form,
    inputs: &Inputs,
    answer: &mut Answer,
    runner_up: &mut [f32],
) {
    let Shape { n, d, k } = inputs.shape;
    assert!(d > 0 && k > 0 && inputs.points.len() == n * d && inputs.centroids.len() == k * d);
    assert!(answer.labels.len() == n && answer.distances.len() == n && runner_up.len() == n);
    assign_points(level, form, inputs, answer, Some(runner_up));
}

fn assign_points(level: SimdLevel, form: Form, inputs: &Inputs, answer: &mut Answer, runner_up: Option<&mut [f32]>) {
    match form {
        Form::Direct => direct_form(level, inputs, answer, runner_up),
        Form::Gemm => dispatch_micro_kernel(level, Assign { inputs, answer, runner_up }),
    }
}

/// How the distances are computed: the direct form Σ(x − c)² with the points as lanes, or the
/// GEMM form ‖c‖² − 2·c·x through the micro-kernel, with its bound and exact confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Direct,
    Gemm,
}

impl Form {
    /// The faster form for `shape` on this CPU. With few centroids, or few coordinates per
    /// centroid, a GEMM tile runs mostly empty rows or a short depth, and its per-point costs
    /// (norms, packing, the exact confirmation) are not spread over much work: the direct form wins
    /// up to [`DIRECT_WORK`] centroid coordinates (k·d) on every CPU measured. Beyond that, the
    /// direct form's subtraction before each multiply-add decides: on a core that adds on pipes of
    /// its own (AMD's Zen) it is free and the direct form keeps winning up to
    /// [`DIRECT_WORK_BESIDE_FMAS`]; on Intel's cores it takes an FMA slot. The k-means README has
    /// the measurements behind each limit. CPUs not measured (aarch64, older x86) take the Xeon's
    /// limits, the more cautious ones.
    pub(crate) fn for_shape(shape: Shape) -> Form {
        let by_cpu = || if cpu::adds_beside_fmas() { Form::Direct } else { Form::Gemm };
        Form::on_every_cpu(shape).unwrap_or_else(by_cpu)
    }

    /// The form every CPU takes for `shape`, if they agree: the instruction-count benchmarks, whose
    /// references are compared on whatever machine runs them, keep to such shapes, and the labs'
    /// edge sizes include both forms.
    pub(crate) fn on_every_cpu(shape: Shape) -> Option<Form> {
        if shape.k <= FEW_CENTROIDS || shape.k.saturating_mul(shape.d) <= DIRECT_WORK {
            Some(Form::Direct)
        } else if shape.k.saturating_mul(shape.d) > DIRECT_WORK_BESIDE_FMAS {
            Some(Form::Gemm)
        } else {
            None
        }
    }
}

/// Test support for the labs built on this flagship (k-means, Lloyd): their instruction-count
/// sizes, whose counts are compared on whatever machine runs them, take one form on every CPU, and
/// their edge and allocation sizes take both forms on every CPU. `shape_of` parses one of the
/// lab's sizes.
#[cfg(test)]
pub(crate) fn assert_sizes_pin_the_forms(info: &crate::lab::LabInfo, shape_of: impl Fn(&str) -> Shape) {
    for size in info.callgrind_sizes {
        let form = Form::on_every_cpu(shape_of(size.size));
        assert!(form.is_some(), "{} {}: the form depends on the CPU, so would its counts", info.name, size.size);
    }
    for (what, sizes) in [("edge", info.edge_sizes), ("allocation", info.allocation_sizes)] {
        let forms: Vec<_> = sizes.iter().map(|size| shape_of(size)).filter_map(Form::on_every_cpu).collect();
        for form in [Form::Direct, Form::Gemm] {
            assert!(forms.contains(&form), "no {} {what} size takes the {form:?} form on every CPU", info.name);
        }
    }
}

/// Which form this CPU takes for which shapes, in a line (`cargo lab machine` prints it).
pub fn describe_forms() -> String {
    let (limit, why) = if cpu::adds_beside_fmas() {
        (DIRECT_WORK_BESIDE_FMAS, "this CPU adds on pipes beside its FMA pipes")
    } else {
        (DIRECT_WORK, "this CPU's additions would take FMA slots")
    };
    format!(
        "k-means assignment (and Lloyd's): the direct form Σ(x − c)² for k ≤ {FEW_CENTROIDS} or k·d ≤ {limit}, the \
         GEMM form beyond ({why})"
    )
}

/// Up to this many centroids, the direct form on every CPU.
const FEW_CENTROIDS: usize = 16;
/// Up to this many centroid coordinates (k·d), the direct form on every CPU.
const DIRECT_WORK: usize = 1024;
/// Up to this many centroid coordinates (k·d), the direct form where subtractions run beside the
/// FMAs.
const DIRECT_WORK_BESIDE_FMAS: usize = 2048;

/// The direct form Σ(x − c)²: each chunk of points, transposed a block at a time so that one
/// vector holds one coordinate of many points, against the centroids' coordinates broadcast, a
/// group of centroids per pass ([`BlockShape`]). Without the expanded form's cancellation it needs no
/// bound and no confirmation; the argmin is a vertical compare-and-select per centroid (strict,
/// so the lower index keeps a tie).
fn direct_form(level: SimdLevel, inputs: &Inputs, answer: &mut Answer, runner_up: Option<&mut [f32]>) {
    // Labels travel as f32 in the argmin: exact below 2²⁴.
    assert!(inputs.shape.k < 1 << 24, "the direct form labels fewer than 2^24 centroids");
    let d = inputs.shape.d;
    assign_in_chunks(answer, runner_up, |first, labels, distances, runner_up| {
        SLIVER.with_slice(DIRECT_LANES_MAX * d + 3 * DIRECT_LANES_MAX + d, |block| match runner_up {
            None => dispatch(
                level,
                DirectChunk::<false> { level, inputs, first, block, labels, distances, runner_up: &mut [] },
            ),
            Some(runner_up) => {
                dispatch(level, DirectChunk::<true> { level, inputs, first, block, labels, distances, runner_up })
            }
        });
    });
}

/// Points per transposed block, at most: two vectors of the widest level (2 × 16).
const DIRECT_LANES_MAX: usize = 32;

/// One chunk in the direct form; `RUNNER_UP`: also keep each point's second smallest
/// distance (a compile-time switch, so the plain assignment pays nothing for it).
struct DirectChunk<'t, 'a, const RUNNER_UP: bool> {
    level: SimdLevel,
    inputs: &'t Inputs<'a>,
    first: usize,
    /// Scratch: the transposed block (d rows of up to 2·LANES points), then the best distances,
    /// labels and second smallest distances, then d zeros (the transpose's centre).
    block: &'t mut [f32],
    labels: &'t mut [u32],
    distances: &'t mut [f32],
    runner_up: &'t mut [f32],
}

impl<const RUNNER_UP: bool> WithSimd for DirectChunk<'_, '_, RUNNER_UP> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        // SAFETY: `dispatch` enabled V.
        unsafe {
            match BlockShape::for_shape(V::LANES, self.inputs.shape) {
                BlockShape::TwoVectors => self.in_blocks::<V, 2, 4>(),
                BlockShape::OneVector => self.in_blocks::<V, 1, 8>(),
            }
        }
    }
}

impl<const RUNNER_UP: bool> DirectChunk<'_, '_, RUNNER_UP> {
    /// The chunk in blocks of VECTORS·LANES points, G centroids a pass.
    ///
    /// # Safety
    /// V's instruction set is enabled.
    #[inline(always)]
    unsafe fn in_blocks<V: F32Vec, const VECTORS: usize, const G: usize>(self) {
        let DirectChunk { level, inputs, first, block, labels, distances, runner_up } = self;
        let d = inputs.shape.d;
        let width = VECTORS * V::LANES;
        assert!(width <= DIRECT_LANES_MAX && block.len() >= width * d + 3 * width + d);
        assert!(!RUNNER_UP || runner_up.len() == labels.len());
        let (points, rest) = block.split_at_mut(width * d);
        let (best, rest) = rest.split_at_mut(width);
        let (index, rest) = rest.split_at_mut(width);
        let (second, zeros) = rest.split_at_mut(width);
        let zeros = &mut zeros[..d];
        zeros.fill(0.0);
        for start in (0..labels.len()).step_by(width) {
            let count = width.min(labels.len() - start);
            let rows = first + start..first + start + count;
            // The direct form needs no centre: the points are packed as they are (minus zeros).
            transpose_centred(level, inputs.points, d, rows.clone(), zeros, points, width);
            let next = (rows.end * d).min(inputs.points.len())..((rows.end + width) * d).min(inputs.points.len());
            prefetch(&inputs.points[next]);
            best.fill(f32::INFINITY);
            second.fill(f32::INFINITY);
            index.fill(0.0);
            let running = TwoSmallest { nearest: &mut *best, index: &mut *index, second: &mut *second };
            // SAFETY: V is enabled (our contract); `points` holds d rows of `width` = VECTORS·LANES
            // floats and the running values `width` floats each (asserted above).
            unsafe { centroids_in_groups::<V, VECTORS, G, RUNNER_UP>(inputs, points, running) };
            for j in 0..count {
                debug_assert!(index[j] >= 0.0 && index[j] < inputs.shape.k as f32 && index[j].fract() == 0.0);
                // SAFETY: `index` holds centroid numbers, written as `c as f32` for c < k <
                // 2^24 (asserted in `direct_form`): whole, exact in f32, and within u32.
                labels[start + j] = unsafe { index[j].to_int_unchecked::<u32>() };
                distances[start + j] = best[j];
                if RUNNER_UP {
                    runner_up[start + j] = second[j];
                }
            }
        }
    }
}

/// How a block of points meets the centroids: VECTORS vectors of points and G centroids per
/// pass over the block's coordinates, VECTORS·G = 8 independent multiply-add chains either way (an
/// FMA's latency times the FMA units, on every CPU here). One centroid at a time, each chain waited
/// on its own previous FMA and the points were loaded again for every centroid (the k-means README
/// has the figures of each shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockShape {
    /// 2 vectors of points, 4 centroids a pass: each coordinate of a centroid, broadcast once,
    /// serves both vectors.
    TwoVectors,
    /// 1 vector of points, 8 centroids a pass: half the block, for 16-lane vectors.
    OneVector,
}

impl BlockShape {
    /// With 16 lanes, two vectors make blocks of 32 points whose transposes waited on memory at
    /// larger d (on Zen 4, measured in the k-means README); one vector of 16 points and 8
    /// centroids a pass was faster there at every shape measured from k·d = 256 to 2048. At 128
    /// and below the per-block work (the transpose, the running values, the labels) is better
    /// spread over 32 points. The Intel Xeon measured (at k ≤ 16) gained from one vector only at
    /// d ≥ 64 and lost at d ≤ 32, so there the rows must be that long as well;
    /// [`cpu::adds_beside_fmas`] is what tells the two families apart.
    fn for_shape(lanes: usize, shape: Shape) -> BlockShape {
        let rows_long_enough = cpu::adds_beside_fmas() || shape.d >= 64;
        if lanes >= 16 && shape.k.saturating_mul(shape.d) > 128 && rows_long_enough {
            BlockShape::OneVector
        } else {
            BlockShape::TwoVectors
        }
    }
}

/// Every centroid against the block `points` (d rows of VECTORS·LANES points), G at a time and
/// the rest one by one, in centroid order (so a tie keeps the lower index).
///
/// # Safety
/// V's instruction set is enabled; `points` holds d rows of VECTORS·LANES floats, the running
/// values VECTORS·LANES floats each.
#[inline(always)]
unsafe fn centroids_in_groups<V: F32Vec, const VECTORS: usize, const G: usize, const RUNNER_UP: bool>(
    inputs: &Inputs,
    points: &[f32],
    mut running: TwoSmallest,
) {
    let k = inputs.shape.k;
    let grouped = k / G * G;
    for first in (0..grouped).step_by(G) {
        // SAFETY: forwarded (our contract).
        unsafe { group::<V, VECTORS, G, RUNNER_UP>(inputs, points, first, &mut running) };
    }
    for c in grouped..k {
        // SAFETY: forwarded.
        unsafe { group::<V, VECTORS, 1, RUNNER_UP>(inputs, points, c, &mut running) };
    }
}

/// Centroids `first..first + G`: their squared distances Σ(x − c)² to the block's points,
/// coordinate by coordinate (the same order of operations as one at a time, so the same
/// values), then into the running values.
///
/// # Safety
/// As [`centroids_in_groups`].
#[inline(always)]
unsafe fn group<V: F32Vec, const VECTORS: usize, const G: usize, const RUNNER_UP: bool>(
    inputs: &Inputs,
    points: &[f32],
    first: usize,
    running: &mut TwoSmallest,
) {
    let (d, width) = (inputs.shape.d, VECTORS * V::LANES);
    assert!(points.len() >= d * width && running.nearest.len() >= width);
    assert!(running.index.len() >= width && running.second.len() >= width);
    let centroids: [&[f32]; G] = std::array::from_fn(|g| inputs.centroid(first + g));
    // SAFETY: V is enabled (our contract); every load and store is inside `points` or the running
    // values (asserted above).
    unsafe {
        let mut acc = [[V::splat(0.0); VECTORS]; G];
        for p in 0..d {
            let x: [V; VECTORS] = std::array::from_fn(|v| V::load(points.as_ptr().add(p * width + v * V::LANES)));
            for (acc_g, centroid) in acc.iter_mut().zip(centroids) {
                let coordinate = V::splat(centroid[p]);
                for (acc_gv, x_v) in acc_g.iter_mut().zip(x) {
                    let diff = x_v.sub(coordinate);
                    *acc_gv = diff.mul_add(diff, *acc_gv);
                }
            }
        }
        for v in 0..VECTORS {
            let at_v = v * V::LANES;
            let mut nearest = V::load(running.nearest.as_ptr().add(at_v));
            let mut at = V::load(running.index.as_ptr().add(at_v));
            let mut next = V::load(running.second.as_ptr().add(at_v));
            for (g, acc_g) in acc.iter().enumerate() {
                let label = V::splat((first + g) as f32);
                push_score::<V, RUNNER_UP>(&mut nearest, &mut at, &mut next, acc_g[v], label);
            }
            nearest.store(running.nearest.as_mut_ptr().add(at_v));
            at.store(running.index.as_mut_ptr().add(at_v));
            next.store(running.second.as_mut_ptr().add(at_v));
        }
    }
}

struct Assign<'i, 'a, 'b> {
    inputs: &'i Inputs<'a>,
    answer: &'i mut Answer<'b>,
    runner_up: Option<&'i mut [f32]>,
}

impl WithMicroKernel for Assign<'_, '_, '_> {
    type Output = ();

    unsafe fn run<K: MicroKernel>(self) {
        let Assign { inputs, answer, runner_up } = self;
        let (d, k) = (inputs.shape.d, inputs.shape.k);
        CENTROIDS.with(|buffer| {
            // Centred on their own mean: a centre near the points, at O(k·d).
            let centroids = pack_set::<K>(inputs.centroids, inputs.centroids, d, buffer.slice(packed_len::<K>(k, d)));
            assign_in_chunks(answer, runner_up, |first, labels, distances, runner_up| {
                SLIVER.with_slice(K::NR * d + 4 * K::NR, |scratch| {
                    let (sliver, lanes) = scratch.split_at_mut(K::NR * d);
                    let centroids = &centroids;
                    let task = Chunk::<K> {
                        inputs,
                        centroids,
                        first,
                        sliver,
                        lanes,
                        labels,
                        distances,
                        runner_up,
                        kernel: PhantomData,
                    };
                    dispatch(K::LEVEL, task);
                });
            });
        });
    }
}

/// One chunk of points, run at the kernel's SIMD level (no closures inside: see k-NN's `best`).
struct Chunk<'t, 'a, K> {
    inputs: &'t Inputs<'a>,
    centroids: &'t PackedRows<'t>,
    /// The chunk's first point.
    first: usize,
    sliver: &'t mut [f32],
    /// Per lane of a sliver: the point's scaled norm, and its two smallest scores and the
    /// nearest's index (see [`TwoSmallest`]).
    lanes: &'t mut [f32],
    labels: &'t mut [u32],
    distances: &'t mut [f32],
    runner_up: Option<&'t mut [f32]>,
    kernel: PhantomData<K>,
}

impl<K: MicroKernel> WithSimd for Chunk<'_, '_, K> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        let Chunk { inputs, centroids, first, sliver, lanes, labels, distances, runner_up, .. } = self;
        let (norms, rest) = lanes.split_at_mut(K::NR);
        let (nearest, rest) = rest.split_at_mut(K::NR);
        let (index, second) = rest.split_at_mut(K::NR);
        let state = TwoSmallest { nearest, index, second };
        let mut argmin = Argmin { inputs, centroid_norms: centroids.norms, first, state, labels, distances, runner_up };
        let points = Points { rows: inputs.points, d: inputs.shape.d, range: first..first + argmin.labels.len() };
        // SAFETY: `dispatch(K::LEVEL, ..)` runs this at V = K's level, which the CPU has (the
        // contract of `dispatch_micro_kernel`, which chose K).
        unsafe { sweep::<K, V, _>(points, centroids, 0..inputs.shape.k, sliver, norms, &mut argmin) };
    }
}

/// A chunk's points `first..`: the running two smallest scores of the sliver's points, and the
/// chunk's answer, written when a sliver is done.
struct Argmin<'e, 'a> {
    inputs: &'e Inputs<'a>,
    centroid_norms: &'e [f32],
    first: usize,
    state: TwoSmallest<'e>,
    labels: &'e mut [u32],
    distances: &'e mut [f32],
    runner_up: Option<&'e mut [f32]>,
}

impl Epilogue for Argmin<'_, '_> {
    #[inline(always)]
    fn start_sliver(&mut self, _points: Range<usize>, _norms: &[f32]) {
        self.state.nearest.fill(f32::INFINITY);
        self.state.second.fill(f32::INFINITY);
        self.state.index.fill(0.0);
    }

    #[inline(always)]
    unsafe fn tile<V: F32Vec>(
        &mut self,
        tile: &[f32],
        nr: usize,
        rows: Range<usize>,
        _points: Range<usize>,
        _norms: &[f32],
    ) {
        let TwoSmallest { nearest, index, second } = &mut self.state;
        let state = TwoSmallest { nearest, index, second };
        assert!(nr == 2 * V::LANES && tile.len() >= rows.len() * nr);
        // SAFETY: forwarded (the contract of `Epilogue::tile`); row r's vector v is inside the
        // tile (asserted above).
        let row = |r: usize, v: usize| unsafe { V::load(tile.as_ptr().add(r * nr + v * V::LANES)) };
        // The tile is in memory, so only the running values need registers.
        // SAFETY: forwarded.
        unsafe { epilogue::<V, 2>(row, rows, 0, self.centroid_norms, state) };
    }

    #[inline(always)]
    unsafe fn registers<V: F32Vec, const MR: usize, const NV: usize>(
        &mut self,
        acc: &[[V; NV]; MR],
        _scratch: &mut [f32],
        rows: Range<usize>,
        _points: Range<usize>,
        _norms: &[f32],
    ) {
        let TwoSmallest { nearest, index, second } = &mut self.state;
        let state = TwoSmallest { nearest, index, second };
        assert!(rows.len() <= MR);
        // SAFETY: forwarded (the contract of `Epilogue::registers`).
        unsafe { epilogue::<V, NV>(|r, v| acc[r][v], rows, MR * NV, self.centroid_norms, state) };
    }

    #[inline(always)]
    unsafe fn finish_sliver<V: F32Vec>(&mut self, points: Range<usize>, norms: &[f32]) {
        let TwoSmallest { index, second, .. } = &self.state;
        for (j, i) in points.enumerate() {
            let (label, distance, runner) = confirm::<V>(self.inputs, i, index[j], second[j], norms[j]);
            let at = i - self.first;
            (self.labels[at], self.distances[at]) = (label, distance);
            if let Some(runner_up) = self.runner_up.as_deref_mut() {
                // Rounded down: a lower bound must not grow when it becomes an f32.
                runner_up[at] = (runner as f32).next_down();
            }
        }
    }
}

/// Per point (one lane each): the two smallest scores seen so far (`(1−ε)‖c'‖² − 2·c'·x'` on the
/// GEMM path, Σ(x − c)² in the direct form) and the centroid of the smallest
/// (as f32: exact below 2²⁴ centroids).
struct TwoSmallest<'l> {
    nearest: &'l mut [f32],
    index: &'l mut [f32],
    second: &'l mut [f32],
}

/// The fused argmin epilogue of one tile (rows: the centroids `rows`; `row(r, v)`: row r's
/// inner products with the lanes of vector v): per lane, the running two smallest scores and
/// the nearest's index, all in vector registers; a vertical pass down the rows, no shuffles, no
/// branches. `live_accumulators`: the tile's vectors held in registers meanwhile (MR·NV straight
/// from the micro-kernel, 0 for a tile in memory).
///
/// # Safety
/// V's instruction set is enabled; the state arrays hold NV·LANES floats.
#[inline(always)]
unsafe fn epilogue<V: F32Vec, const NV: usize>(
    row: impl Fn(usize, usize) -> V,
    rows: Range<usize>,
    live_accumulators: usize,
    centroid_norms: &[f32],
    mut state: TwoSmallest,
) {
    let lanes = NV * V::LANES;
    assert!(state.nearest.len() >= lanes && state.index.len() >= lanes && state.second.len() >= lanes);
    // All NV vectors of lanes at once (rows outer) where the tile and their running values fit the
    // registers together (AVX-512's 32), so that each row's broadcasts (its norm, its index) serve
    // every vector. With AVX2's 16 they do not (12 accumulators and 6 running values): the
    // compiler would keep running values on the stack, each row's blend waiting on a store and a
    // load. One vector at a time keeps its three in registers, at a broadcast per vector and row.
    if live_accumulators + 3 * NV <= V::REGISTERS {
        // SAFETY: forwarded (our contract), and vectors 0..NV are in the state (asserted above).
        unsafe { lanes_down_rows::<V, NV>(0, &row, rows, centroid_norms, &mut state) };
    } else {
        for v in 0..NV {
            // SAFETY: as above, vector v < NV.
            unsafe { lanes_down_rows::<V, 1>(v, |r, _| row(r, v), rows.clone(), centroid_norms, &mut state) };
        }
    }
}

/// The running values of G vectors of lanes, from vector `first` on: loaded, updated with every
/// row's scores (rows outer, so each row's broadcasts serve the G vectors), stored.
///
/// # Safety
/// V's instruction set is enabled; the state arrays hold (first + G)·LANES floats.
#[inline(always)]
unsafe fn lanes_down_rows<V: F32Vec, const G: usize>(
    first: usize,
    row: impl Fn(usize, usize) -> V,
    rows: Range<usize>,
    centroid_norms: &[f32],
    state: &mut TwoSmallest,
) {
    let TwoSmallest { nearest, index, second } = state;
    let offset = |g: usize| (first + g) * V::LANES;
    // SAFETY: V is enabled and vectors first..first + G are inside every state array (our
    // contract).
    unsafe {
        let two = V::splat(-2.0);
        let load = |values: &[f32]| -> [V; G] { std::array::from_fn(|g| V::load(values.as_ptr().add(offset(g)))) };
        let (mut smallest, mut at, mut next) = (load(nearest), load(index), load(second));
        for (r, c) in rows.enumerate() {
            let (norm, label) = (V::splat(centroid_norms[c]), V::splat(c as f32));
            for g in 0..G {
                let score = row(r, g).mul_add(two, norm);
                push_score::<V, true>(&mut smallest[g], &mut at[g], &mut next[g], score, label);
            }
        }
        for g in 0..G {
            smallest[g].store(nearest.as_mut_ptr().add(offset(g)));
            at[g].store(index.as_mut_ptr().add(offset(g)));
            next[g].store(second.as_mut_ptr().add(offset(g)));
        }
    }
}

/// One row's scores (or one centroid's distances) into the running values of its lanes: the
/// smallest, its centroid (`label`) and, with SECOND, the second smallest (a compile-time switch,
/// so a plain assignment in the direct form pays nothing for it).
///
/// # Safety
/// V's instruction set is enabled.
#[inline(always)]
unsafe fn push_score<V: F32Vec, const SECOND: bool>(first: &mut V, at: &mut V, next: &mut V, score: V, label: V) {
    // SAFETY: V is enabled (our contract).
    unsafe {
        // Strictly smaller: a tie keeps the lower centroid, which came first.
        *at = V::select(score.lt(*first), label, *at);
        // The larger of the old smallest and the score is a candidate for second: with min and
        // max (not selects on the comparison) each running value depends on its own last value
        // through one short instruction.
        if SECOND {
            *next = next.min(first.max(score));
        }
        *first = first.min(score);
    }
}

/// Point i's label and exact distance, from its two smallest scores: the nearest score's
/// centroid is the answer when even the second smallest lower bound exceeds that centroid's
/// exact distance (`distance::exact`: `second + norm` is a lower bound of the direct form's value);
/// otherwise (a near tie, rare) every centroid is compared exactly. Third: the runner-up, a lower
/// bound of every other centroid's distance (that sum, or the second smallest exact distance),
/// in f64, unrounded.
#[inline(always)]
fn confirm<V: F32Vec>(inputs: &Inputs, i: usize, index: f32, second: f32, norm: f32) -> (u32, f32, f64) {
    let point = inputs.point(i);
    let candidate = index as usize;
    // SAFETY: this runs inside the chunk's `dispatch`, which enabled V; both rows have d floats.
    let [distance] = unsafe { distances::<V, 1>(point, [inputs.centroid(candidate)]) };
    // The sum of two f32 in f64 is within 2⁻⁵³ of exact, and the distance is ≥ 0: the margin
    // makes "bound > distance" certain without branches (`query_threshold` is the f32 form).
    let bound = second as f64 + norm as f64;
    if bound > distance as f64 * (1.0 + f64::EPSILON) {
        return (candidate as u32, distance, bound);
    }
    let (mut best, mut best_distance, mut runner_up) = (0, f32::INFINITY, f32::INFINITY);
    for c in 0..inputs.shape.k {
        // SAFETY: as above.
        let [distance] = unsafe { distances::<V, 1>(point, [inputs.centroid(c)]) };
        if distance < best_distance {
            runner_up = best_distance;
            (best, best_distance) = (c, distance);
        } else {
            runner_up = runner_up.min(distance);
        }
    }
    (best as u32, best_distance, runner_up as f64)
}
