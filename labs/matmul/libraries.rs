//! Library anchors: real GEMMs, to show where the ladder tops out.

use crate::matmul::{Kernel, Shape};

/// ndarray's `general_mat_mul`, which runs matrixmultiply's packed micro-kernel GEMM. The
/// workspace enables matrixmultiply's `avx512` and `threading` features; its thread count comes
/// from `MATMUL_NUM_THREADS` (see [`set_library_threads`]).
pub fn ndarray_gemm(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    use ndarray::{ArrayView2, ArrayViewMut2, linalg::general_mat_mul};
    let Shape { m, k, n } = shape;
    let a = ArrayView2::from_shape((m, k), a).expect("A fits its shape");
    let b = ArrayView2::from_shape((k, n), b).expect("B fits its shape");
    let mut c = ArrayViewMut2::from_shape((m, n), c).expect("C fits its shape");
    if k == 0 {
        c.fill(0.0); // beta = 0 must still clear C when the sum is empty
        return;
    }
    general_mat_mul(1.0, &a, &b, 0.0, &mut c);
}

/// The OpenBLAS anchor when this build links it, or the one line that enables it.
pub fn openblas_kernel() -> Result<Kernel, &'static str> {
    #[cfg(feature = "openblas")]
    {
        Ok(openblas::sgemm)
    }
    #[cfg(not(feature = "openblas"))]
    {
        Err(
            "not built in: `apt-get install libopenblas-dev`, then run `cargo lab-openblas ...` (= --features openblas)",
        )
    }
}

/// The kernel each in-process library loaded: the linked OpenBLAS's core type, where this build
/// links it (ndarray's matrixmultiply dispatches per call at run time, like perflab's own kernels).
pub fn kernels() -> Vec<crate::LibraryKernel> {
    #[cfg(feature = "openblas")]
    {
        vec![openblas::kernel()]
    }
    #[cfg(not(feature = "openblas"))]
    {
        Vec::new()
    }
}

/// Sets the thread count of the library anchors. matrixmultiply reads `MATMUL_NUM_THREADS`
/// once, on its first multiply, so call this at the start of `main`, before any multiply.
///
/// # Safety
/// It sets an environment variable: no other thread may read or write the environment at the
/// same time (call it while the process has a single thread).
pub unsafe fn set_library_threads(threads: usize) {
    // SAFETY: the caller guarantees no other thread touches the environment.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    #[cfg(feature = "openblas")]
    openblas::set_threads(threads);
}

#[cfg(feature = "openblas")]
mod openblas {
    use crate::matmul::Shape;
    use std::os::raw::c_int;

    const CBLAS_ROW_MAJOR: c_int = 101;
    const CBLAS_NO_TRANS: c_int = 111;

    // The system library (Debian: libopenblas-dev), which exports the CBLAS interface.
    #[link(name = "openblas")]
    unsafe extern "C" {
        #[allow(clippy::too_many_arguments)]
        fn cblas_sgemm(
            layout: c_int,
            trans_a: c_int,
            trans_b: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: f32,
            a: *const f32,
            lda: c_int,
            b: *const f32,
            ldb: c_int,
            beta: f32,
            c: *mut f32,
            ldc: c_int,
        );
        fn openblas_set_num_threads(threads: c_int);
        fn openblas_get_corename() -> *const std::os::raw::c_char;
        fn openblas_get_config() -> *const std::os::raw::c_char;
    }

    /// The core type OpenBLAS picked at load time for this CPU (`Cooperlake`), and its build.
    pub(super) fn kernel() -> crate::LibraryKernel {
        // SAFETY: both return a pointer to a static NUL-terminated string owned by OpenBLAS (or
        // null, handled by `text`), valid for the life of the process.
        let (core, config) = unsafe { (text(openblas_get_corename()), text(openblas_get_config())) };
        // `OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`
        let mut words = config.split_whitespace();
        let (name, version) = (words.next().unwrap_or("OpenBLAS"), words.next().unwrap_or("?"));
        crate::LibraryKernel {
            variant: "openblas",
            library: name.to_string(),
            version: version.to_string(),
            kernel: core,
            detail: words.collect::<Vec<_>>().join(" "),
        }
    }

    /// A C string OpenBLAS owns, as text.
    ///
    /// # Safety
    /// `pointer` is null or points to a NUL-terminated string that outlives this call.
    unsafe fn text(pointer: *const std::os::raw::c_char) -> String {
        if pointer.is_null() {
            return "unknown".into();
        }
        // SAFETY: non-null, and NUL-terminated by the caller's guarantee.
        unsafe { std::ffi::CStr::from_ptr(pointer) }.to_string_lossy().into_owned()
    }

    pub(super) fn set_threads(threads: usize) {
        // SAFETY: plain setter of OpenBLAS's global thread count.
        unsafe { openblas_set_num_threads(threads.try_into().unwrap_or(c_int::MAX)) }
    }

    /// C = A·B through `cblas_sgemm` (row-major, alpha = 1, beta = 0).
    pub(super) fn sgemm(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
        shape.assert_fits(a, b, c);
        let Shape { m, k, n } = shape;
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            c.fill(0.0);
            return;
        }
        let dim = |x: usize| c_int::try_from(x).expect("dimension fits a C int");
        // SAFETY: lengths checked above; leading dimensions are the row lengths (≥ 1).
        unsafe {
            cblas_sgemm(
                CBLAS_ROW_MAJOR,
                CBLAS_NO_TRANS,
                CBLAS_NO_TRANS,
                dim(m),
                dim(n),
                dim(k),
                1.0,
                a.as_ptr(),
                dim(k),
                b.as_ptr(),
                dim(n),
                0.0,
                c.as_mut_ptr(),
                dim(n),
            )
        }
    }
}
