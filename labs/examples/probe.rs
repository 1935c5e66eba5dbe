//! Quick interleaved timing of a few variants: `cargo run --release --example probe -- 1024 best simd`.
use perflab_labs::matmul::{self, Shape, random_matrix};
use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(1024);
    let names: Vec<String> = std::env::args().skip(2).collect();
    let shape = Shape::square(n);
    let (a, b) = (random_matrix(n, n, 1), random_matrix(n, n, 2));
    let mut c = vec![0.0; n * n];
    let kernels: Vec<_> = matmul::variants()
        .into_iter()
        .filter(|v| names.is_empty() || names.iter().any(|x| x == v.name))
        .filter_map(|v| v.kernel.ok().map(|k| (v.name, k)))
        .collect();
    let mut times = vec![Vec::new(); kernels.len()];
    for round in 0..12 {
        for (t, (_, k)) in times.iter_mut().zip(&kernels) {
            let start = Instant::now();
            k(shape, &a, &b, &mut c);
            if round > 0 {
                t.push(start.elapsed().as_secs_f64());
            }
        }
    }
    for (t, (name, _)) in times.iter_mut().zip(&kernels) {
        t.sort_by(f64::total_cmp);
        println!(
            "{name:12} median {:7.2} GFLOP/s  (best {:7.2})",
            shape.flops() / t[t.len() / 2] / 1e9,
            shape.flops() / t[0] / 1e9
        );
    }
}
