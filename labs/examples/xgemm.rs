use perflab_labs::matmul::Shape;
use perflab_labs::matmul::solutions::best;
use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let reps: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(7);
    let a: Vec<f32> = (0..n * n).map(|i| (i % 13) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
    let mut c = vec![0.0; n * n];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    pool.install(|| {
        best::matmul(Shape::square(n), &a, &b, &mut c);
        let mut t = Vec::new();
        for _ in 0..reps {
            let s = Instant::now();
            best::matmul(Shape::square(n), &a, &b, &mut c);
            t.push(s.elapsed().as_secs_f64());
        }
        t.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let g = 2.0 * (n as f64).powi(3) / 1e9;
        println!("n={n} median {:.1} GFLOP/s best {:.1}", g / t[reps / 2], g / t[0]);
    });
}
