//! Reference solutions allocate nothing per call: C is the caller's, and packing buffers are
//! kept per thread and reused. Counted with dhat after warm-up calls, on one thread and on
//! several (a `harness = false` test: dhat's counts are process-wide).

use perflab_labs::Role;
use perflab_labs::matmul::{self, Shape, random_matrix};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Serial and parallel sizes for `best` (its threshold is 128³), edges included.
const SHAPES: [(usize, usize, usize); 3] = [(37, 53, 29), (301, 260, 177), (144, 700, 4100)];

fn main() {
    let (mut passed, mut failed) = (0, 0);
    let _profiler = dhat::Profiler::builder().testing().build();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        for variant in matmul::variants().into_iter().filter(|v| v.role == Role::Reference) {
            let kernel = variant.kernel.unwrap();
            for (m, k, n) in SHAPES {
                let shape = Shape::new(m, k, n);
                let (a, b) = (random_matrix(m, k, 1), random_matrix(k, n, 2));
                let mut c = vec![0.0f32; m * n];
                // Warm up until every worker has most likely run a band and grown its buffers.
                for _ in 0..3 * threads {
                    pool.install(|| kernel(shape, &a, &b, &mut c));
                }
                let before = dhat::HeapStats::get();
                pool.install(|| kernel(shape, &a, &b, &mut c));
                let after = dhat::HeapStats::get();
                let (blocks, bytes) =
                    (after.total_blocks - before.total_blocks, after.total_bytes - before.total_bytes);
                let name = format!("{} at {shape} on {threads} thread(s)", variant.name);
                if blocks == 0 {
                    passed += 1;
                    println!("test {name}: no allocation ... ok");
                } else {
                    failed += 1;
                    println!("test {name}: {blocks} allocations, {bytes} bytes per call ... FAILED");
                }
            }
        }
    }
    // The control: a kernel known to allocate (matrixmultiply's packing buffer) must be seen,
    // or the counts above prove nothing.
    let shape = Shape::new(64, 64, 64);
    let (a, b) = (random_matrix(64, 64, 1), random_matrix(64, 64, 2));
    let mut c = vec![0.0f32; 64 * 64];
    let before = dhat::HeapStats::get();
    matmul::libraries::ndarray_gemm(shape, &a, &b, &mut c);
    let seen = dhat::HeapStats::get().total_blocks - before.total_blocks;
    if seen > 0 {
        passed += 1;
        println!("test control: ndarray's {seen} allocation(s) per call are counted ... ok");
    } else {
        failed += 1;
        println!("test control: ndarray's allocations were not counted ... FAILED");
    }

    println!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
