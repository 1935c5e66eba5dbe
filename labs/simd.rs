//! A minimal vector-of-f32 abstraction, so that one kernel source serves every instruction set.
//!
//! A kernel is written once, generic over [`F32Vec`] and marked `#[inline(always)]`; a thin entry
//! point per ISA carries `#[target_feature(enable = ...)]` and instantiates it. Because everything
//! below the entry point is inlined into it, the intrinsics compile at the entry point's width.
//! ([`Scalar8`] is the portable fallback: plain arrays, which compile on any target.)

/// A register of `LANES` f32 values.
///
/// # Safety
/// The methods use intrinsics of one instruction set: call them only where that set is
/// enabled (inside a `#[target_feature]` function, after runtime detection).
/// Pointers must be valid for `LANES` consecutive f32 reads or writes.
#[allow(clippy::missing_safety_doc, reason = "one contract for all methods, stated on the trait")]
pub trait F32Vec: Copy {
    const LANES: usize;
    /// Every lane set to `x`.
    unsafe fn splat(x: f32) -> Self;
    /// `LANES` values from `ptr` (no alignment needed).
    unsafe fn load(ptr: *const f32) -> Self;
    /// Writes `LANES` values to `ptr` (no alignment needed).
    unsafe fn store(self, ptr: *mut f32);
    /// `self * b + acc`, fused (one rounding) where the hardware has FMA.
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self;
    /// Lane-wise `self + b`.
    unsafe fn add(self, b: Self) -> Self;
}

/// Portable fallback: eight f32 in an array; the compiler vectorises it as far as the
/// target allows (SSE2 on a default x86-64 build, NEON on aarch64).
#[derive(Clone, Copy, Debug)]
pub struct Scalar8(pub [f32; 8]);

impl F32Vec for Scalar8 {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Scalar8([x; 8])
    }
    #[inline(always)]
    unsafe fn load(ptr: *const f32) -> Self {
        // SAFETY: the caller guarantees 8 readable floats.
        Scalar8(unsafe { ptr.cast::<[f32; 8]>().read_unaligned() })
    }
    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32) {
        // SAFETY: the caller guarantees 8 writable floats.
        unsafe { ptr.cast::<[f32; 8]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        // Separate multiply and add: `f32::mul_add` would become a libm call per lane on
        // targets without FMA, which is far slower than two roundings.
        let mut out = acc.0;
        for ((o, x), y) in out.iter_mut().zip(self.0).zip(b.0) {
            *o += x * y;
        }
        Scalar8(out)
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        let mut out = self.0;
        for (o, y) in out.iter_mut().zip(b.0) {
            *o += y;
        }
        Scalar8(out)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::F32Vec;
    use std::arch::x86_64::*;

    impl F32Vec for __m256 {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(ptr: *const f32) -> Self {
            unsafe { _mm256_loadu_ps(ptr) }
        }
        #[inline(always)]
        unsafe fn store(self, ptr: *mut f32) {
            unsafe { _mm256_storeu_ps(ptr, self) }
        }
        #[inline(always)]
        unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
            unsafe { _mm256_fmadd_ps(self, b, acc) }
        }
        #[inline(always)]
        unsafe fn add(self, b: Self) -> Self {
            unsafe { _mm256_add_ps(self, b) }
        }
    }

    impl F32Vec for __m512 {
        const LANES: usize = 16;
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(ptr: *const f32) -> Self {
            unsafe { _mm512_loadu_ps(ptr) }
        }
        #[inline(always)]
        unsafe fn store(self, ptr: *mut f32) {
            unsafe { _mm512_storeu_ps(ptr, self) }
        }
        #[inline(always)]
        unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
            unsafe { _mm512_fmadd_ps(self, b, acc) }
        }
        #[inline(always)]
        unsafe fn add(self, b: Self) -> Self {
            unsafe { _mm512_add_ps(self, b) }
        }
    }
}
