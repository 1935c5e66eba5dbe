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
//!     micro-kernel: MR × NR inner products, in registers
//!     epilogue.tile                                      // from L1, never written to memory
//!   epilogue.finish_sliver
//! ```

use std::ops::Range;

pub use super::pack::PackedRows;
use super::pack::pack_points;
use crate::gemm::blocking;
use crate::gemm::kernel::{MAX_TILE, MicroKernel};
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
    let Points { rows: data, d, range } = points;
    let mut tile = Tile([0.0f32; MAX_TILE]);
    let tile = &mut tile.0;
    // Long rows are cut into depth blocks of the GEMM's kc (`gemm/blocking.rs`).
    let depth = blocking::sizes(K::LEVEL).kc;
    for first in range.clone().step_by(K::NR) {
        let columns = first..(first + K::NR).min(range.end);
        pack_points::<K>(data, d, packed.centre, columns.clone(), sliver, norms);
        // The next sliver's points come from memory while this one's tiles run.
        prefetch(&data[columns.end * d..(columns.end + K::NR).min(range.end) * d]);
        epilogue.start_sliver(columns.clone(), norms);
        for top in rows.clone().step_by(K::MR) {
            let a = &packed.rows[top * d..][..K::MR * d];
            for pc in (0..d).step_by(depth) {
                let kc = depth.min(d - pc);
                // SAFETY: the CPU has K::LEVEL (our contract); `run` checks the slices.
                unsafe { K::run(kc, &a[pc * K::MR..], &sliver[pc * K::NR..], tile, K::NR, pc == 0) };
            }
            let tile_rows = top..(top + K::MR).min(rows.end);
            // SAFETY: V is enabled (our contract); the tile holds MR rows of NR products, NR a
            // multiple of every level's lanes, and `norms` NR floats.
            unsafe { epilogue.tile::<V>(tile, K::NR, tile_rows, columns.clone(), norms) };
        }
        // SAFETY: V is enabled (our contract).
        unsafe { epilogue.finish_sliver::<V>(columns, norms) };
    }
}

/// A register tile's products, on a cache-line boundary: the kernel's full-width stores and the
/// epilogue's loads never straddle two lines.
#[repr(align(64))]
struct Tile([f32; MAX_TILE]);

/// Asks the CPU to bring `data` into its caches, one request per 64-byte line: a hint, it
/// changes no value. (The hardware's own prefetcher follows a stream only a few lines ahead,
/// not the NR·d floats the next sliver reads after thousands of cycles of tiles.)
#[inline(always)]
pub fn prefetch(data: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in data.chunks(16) {
        // SAFETY: a prefetch reads nothing architecturally; the address is inside `data`.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}
