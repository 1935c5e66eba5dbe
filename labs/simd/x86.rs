//! [`F32Vec`] for AVX2 (`__m256`, 8 lanes) and AVX-512 (`__m512`, 16 lanes).

use std::arch::x86_64::*;

use super::F32Vec;

// Every method is one intrinsic whose only precondition, the instruction set, is the trait's
// contract (and pointer validity, also the caller's): the unsafe fn's contract covers the calls.
#[allow(unsafe_op_in_unsafe_fn)]
impl F32Vec for __m256 {
    const LANES: usize = 8;
    const REGISTERS: usize = 16;
    type Mask = __m256;

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        _mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(ptr: *const f32) -> Self {
        _mm256_loadu_ps(ptr)
    }
    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32) {
        _mm256_storeu_ps(ptr, self)
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        _mm256_fmadd_ps(self, b, acc)
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm256_add_ps(self, b)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm256_sub_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm256_mul_ps(self, b)
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm256_min_ps(self, b)
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm256_max_ps(self, b)
    }
    #[inline(always)]
    unsafe fn lt(self, b: Self) -> __m256 {
        _mm256_cmp_ps::<_CMP_LT_OQ>(self, b)
    }
    #[inline(always)]
    unsafe fn select(mask: __m256, if_true: Self, if_false: Self) -> Self {
        // blendv takes its second operand where the mask lane's sign bit is set.
        _mm256_blendv_ps(if_false, if_true, mask)
    }
    #[inline(always)]
    unsafe fn bits(mask: __m256) -> u32 {
        _mm256_movemask_ps(mask) as u32
    }
}

#[allow(unsafe_op_in_unsafe_fn)]
impl F32Vec for __m512 {
    const LANES: usize = 16;
    const REGISTERS: usize = 32;
    type Mask = __mmask16;

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        _mm512_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(ptr: *const f32) -> Self {
        _mm512_loadu_ps(ptr)
    }
    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32) {
        _mm512_storeu_ps(ptr, self)
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        _mm512_fmadd_ps(self, b, acc)
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm512_add_ps(self, b)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm512_sub_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm512_mul_ps(self, b)
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm512_min_ps(self, b)
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm512_max_ps(self, b)
    }
    #[inline(always)]
    unsafe fn lt(self, b: Self) -> __mmask16 {
        _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self, b)
    }
    #[inline(always)]
    unsafe fn select(mask: __mmask16, if_true: Self, if_false: Self) -> Self {
        // mask_blend takes its second operand where the mask bit is set.
        _mm512_mask_blend_ps(mask, if_false, if_true)
    }
    #[inline(always)]
    unsafe fn bits(mask: __mmask16) -> u32 {
        mask as u32
    }
}
