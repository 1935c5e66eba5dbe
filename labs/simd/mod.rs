//! A minimal vector-of-f32 abstraction, so that one kernel source serves every instruction set,
//! and the one place that decides which instruction set runs ([`dispatch`]).
//!
//! A kernel is written once, generic over [`F32Vec`] and marked `#[inline(always)]`; an entry
//! point per ISA carries `#[target_feature(enable = ...)]` and instantiates it. Because everything
//! below the entry point is inlined into it, the intrinsics compile at the entry point's width.
//! [`Scalar8`] is the portable fallback: plain arrays, which compile on any target.

mod dispatch;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use dispatch::{
    SimdLevel, WithMicroKernel, WithSimd, detected, dispatch, dispatch_micro_kernel, force_level, simd_level,
};

/// A register of `LANES` f32 values.
///
/// # Safety
/// The methods use intrinsics of one instruction set: call them only where that set is
/// enabled (inside a `#[target_feature]` function, after runtime detection: see [`dispatch`]).
/// Pointers must be valid for `LANES` consecutive f32 reads or writes.
#[allow(clippy::missing_safety_doc, reason = "one contract for all methods, stated on the trait")]
pub trait F32Vec: Copy {
    const LANES: usize;
    /// Architectural vector registers at this width (16 ymm, 32 zmm): how many accumulators a
    /// register tile can keep without spilling.
    const REGISTERS: usize;
    /// One bit or lane per element, from a comparison.
    type Mask: Copy;

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
    /// Lane-wise `self - b`.
    unsafe fn sub(self, b: Self) -> Self;
    /// Lane-wise `self * b`.
    unsafe fn mul(self, b: Self) -> Self;
    /// Lane-wise minimum; where either lane is NaN, the lane of `b` (as x86's `minps`).
    unsafe fn min(self, b: Self) -> Self;
    /// Lane-wise maximum; where either lane is NaN, the lane of `b` (as x86's `maxps`).
    unsafe fn max(self, b: Self) -> Self;
    /// Lane-wise `self < b` (false where either is NaN).
    unsafe fn lt(self, b: Self) -> Self::Mask;
    /// Lane-wise `if mask { if_true } else { if_false }`.
    unsafe fn select(mask: Self::Mask, if_true: Self, if_false: Self) -> Self;
    /// The mask as bits: bit `i` set where lane `i` is true (test a whole vector with one branch).
    unsafe fn bits(mask: Self::Mask) -> u32;

    /// The sum of the lanes, as a tree (upper half onto lower half, log2(LANES) steps), so that
    /// the additions do not wait on each other one by one: for the end of a reduction.
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        const { assert!(Self::LANES.is_power_of_two() && Self::LANES <= 16, "1 to 16 lanes, a power of two") };
        let mut lanes = [0.0f32; 16];
        // SAFETY: `lanes` has room for 16 ≥ LANES floats; the caller's contract covers the rest.
        unsafe { self.store(lanes.as_mut_ptr()) };
        let mut width = Self::LANES;
        while width > 1 {
            width /= 2;
            for i in 0..width {
                lanes[i] += lanes[i + width];
            }
        }
        lanes[0]
    }
}

/// Portable fallback: eight f32 in an array; the compiler vectorises it as far as the
/// target allows (SSE2 on a default x86-64 build, NEON on aarch64).
#[derive(Clone, Copy, Debug)]
pub struct Scalar8(pub [f32; 8]);

impl Scalar8 {
    #[inline(always)]
    fn zip_with(self, b: Scalar8, f: impl Fn(f32, f32) -> f32) -> Scalar8 {
        Scalar8(std::array::from_fn(|i| f(self.0[i], b.0[i])))
    }
}

impl F32Vec for Scalar8 {
    const LANES: usize = 8;
    /// Each `Scalar8` takes two of SSE2's sixteen registers (NEON has 32, but plan for the least).
    const REGISTERS: usize = 8;
    type Mask = u32;

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
        self.zip_with(b, |x, y| x + y)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        self.zip_with(b, |x, y| x - y)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        self.zip_with(b, |x, y| x * y)
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        self.zip_with(b, |x, y| if x < y { x } else { y })
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        self.zip_with(b, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    unsafe fn lt(self, b: Self) -> u32 {
        (0..8).fold(0, |bits, i| bits | (((self.0[i] < b.0[i]) as u32) << i))
    }
    #[inline(always)]
    unsafe fn select(mask: u32, if_true: Self, if_false: Self) -> Self {
        Scalar8(std::array::from_fn(|i| if mask >> i & 1 == 1 { if_true.0[i] } else { if_false.0[i] }))
    }
    #[inline(always)]
    unsafe fn bits(mask: u32) -> u32 {
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every operation on known values at one level; compares lane by lane.
    struct Operations;

    impl WithSimd for Operations {
        type Output = Vec<(&'static str, Vec<f32>, Vec<f32>)>;

        #[inline(always)]
        unsafe fn run<V: F32Vec>(self) -> Self::Output {
            let lanes = V::LANES;
            let x: Vec<f32> = (0..lanes).map(|i| i as f32 - 3.5).collect();
            let mut y: Vec<f32> = (0..lanes).map(|i| 2.0 - i as f32 * 0.5).collect();
            y[1] = f32::NAN;
            let mut out = Vec::new();
            // SAFETY: `dispatch` enabled V's instruction set; every buffer holds `lanes` floats.
            unsafe {
                let (a, b) = (V::load(x.as_ptr()), V::load(y.as_ptr()));
                let get = |v: V| {
                    let mut buffer = vec![0.0; lanes];
                    v.store(buffer.as_mut_ptr());
                    buffer
                };
                let expect = |f: fn(f32, f32) -> f32| x.iter().zip(&y).map(|(&p, &q)| f(p, q)).collect::<Vec<_>>();
                out.push(("add", get(a.add(b)), expect(|p, q| p + q)));
                out.push(("sub", get(a.sub(b)), expect(|p, q| p - q)));
                out.push(("mul", get(a.mul(b)), expect(|p, q| p * q)));
                out.push(("mul_add", get(a.mul_add(b, V::splat(1.0))), expect(|p, q| p * q + 1.0)));
                out.push(("min", get(a.min(b)), expect(|p, q| if p < q { p } else { q })));
                out.push((
                    "select(lt)",
                    get(V::select(a.lt(b), a, V::splat(9.0))),
                    expect(|p, q| if p < q { p } else { 9.0 }),
                ));
                out.push(("sum", vec![a.sum()], vec![x.iter().sum()])); // halves: exact in any order
                // Values whose sum depends on the order of the additions: the same tree's bits.
                // (A large value and its negation pair off first in the tree, but swallow the small
                // ones added one by one in between.)
                let mut z: Vec<f32> = (0..lanes).map(|i| (2 * i + 1) as f32).collect();
                (z[0], z[lanes / 2]) = (1.0e8, -1.0e8);
                let in_order: f32 = z.iter().sum();
                assert_ne!(sum_tree(&z).to_bits(), in_order.to_bits(), "these values tell the orders apart");
                out.push(("sum (order)", vec![V::load(z.as_ptr()).sum()], vec![sum_tree(&z)]));
                let bits = V::bits(a.lt(b));
                let expected_bits = (0..lanes).filter(|&i| x[i] < y[i]).fold(0u32, |m, i| m | 1 << i);
                out.push(("bits(lt)", vec![bits as f32], vec![expected_bits as f32]));
            }
            out
        }
    }

    /// [`F32Vec::sum`]'s documented order: upper half onto lower half until one lane is left.
    fn sum_tree(values: &[f32]) -> f32 {
        let mut lanes = values.to_vec();
        while lanes.len() > 1 {
            let half = lanes.len() / 2;
            lanes = (0..half).map(|i| lanes[i] + lanes[i + half]).collect();
        }
        lanes[0]
    }

    #[test]
    fn every_operation_agrees_with_scalar_arithmetic_at_every_level() {
        for level in SimdLevel::available() {
            for (name, got, expected) in dispatch(level, Operations) {
                let same = got.iter().zip(&expected).all(|(g, e)| g == e || (g.is_nan() && e.is_nan()));
                assert!(same && got.len() == expected.len(), "{name} at {level}: got {got:?}, expected {expected:?}");
            }
        }
    }
}
