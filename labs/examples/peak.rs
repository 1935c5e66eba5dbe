//! Prints this core's measured f32 FMA peak at every SIMD level it has.
use perflab_labs::cpu::{SimdLevel, fma_peak_gflops};
use std::time::Duration;
fn main() {
    for level in SimdLevel::available() {
        let runs: Vec<f64> = (0..5).map(|_| fma_peak_gflops(level, Duration::from_millis(200))).collect();
        println!("{level:10} {:?}", runs.iter().map(|g| format!("{g:.1}")).collect::<Vec<_>>());
    }
}
