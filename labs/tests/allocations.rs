//! Reference solutions allocate nothing per call, in every lab: outputs are the caller's, and
//! scratch buffers are kept per thread and reused. Counted with dhat after warm-up calls, on one
//! thread and on several. A `harness = false` test: dhat's counts are process-wide, so nothing
//! may run beside it.

use perflab_labs::Role;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn main() {
    let (mut passed, mut failed) = (0, 0);
    let _profiler = dhat::Profiler::builder().testing().build();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        for lab in perflab_labs::all() {
            let references: Vec<_> =
                lab.variants().into_iter().enumerate().filter(|(_, v)| v.role == Role::Reference).collect();
            for size in lab.allocation_sizes() {
                let mut case = lab.prepare(size, 1).unwrap();
                for (v, variant) in &references {
                    // Warm up until every worker has most likely run a part and grown its buffers.
                    for _ in 0..3 * threads {
                        pool.install(|| case.run(*v));
                    }
                    // Counted inside the pool, after the job entering it was taken: a job from
                    // outside goes to whichever worker wakes first, and a worker's first steal
                    // registers it with the deques' memory reclamation (crossbeam-epoch), an
                    // allocation of the pool's, not the kernel's (seen in CI: 2304 bytes, serial
                    // `simd` on 3 threads, when the counted call was the first that worker took).
                    let (before, after) = pool.install(|| {
                        let before = dhat::HeapStats::get();
                        case.run(*v);
                        (before, dhat::HeapStats::get())
                    });
                    let (blocks, bytes) =
                        (after.total_blocks - before.total_blocks, after.total_bytes - before.total_bytes);
                    let name = format!("{} {} at {size} on {threads} thread(s)", lab.name(), variant.name);
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
    }
    // The control: an allocation made here must be seen, or the counts above prove nothing.
    let before = dhat::HeapStats::get();
    let probe = std::hint::black_box(vec![0u8; 4096]);
    let seen = dhat::HeapStats::get().total_blocks - before.total_blocks;
    drop(probe);
    if seen == 1 {
        passed += 1;
        println!("test control: one allocation of 4 KiB is counted ... ok");
    } else {
        failed += 1;
        println!("test control: one allocation was counted as {seen} ... FAILED");
    }

    println!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
