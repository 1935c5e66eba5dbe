use perflab_labs::assignment::{self, Answer, DataSet, Inputs, Shape, best};
use std::time::Instant;
fn main() {
    let shape = Shape { n: 200_000, d: 32, k: 256 };
    let (points, centroids) = assignment::generate(shape, DataSet::Blobs, 42);
    let inputs = Inputs { shape, points: &points, centroids: &centroids };
    let (mut labels, mut distances, mut inertia) = (vec![0u32; shape.n], vec![0f32; shape.n], 0f64);
    let exps = 2;
    let mut times = vec![Vec::new(); exps];
    for _round in 0..40 {
        for exp in 0..exps as u8 {
            best::EXP.store(exp, std::sync::atomic::Ordering::Relaxed);
            for _ in 0..4 {
                let t = Instant::now();
                best::assign(
                    &inputs,
                    &mut Answer { labels: &mut labels, distances: &mut distances, inertia: &mut inertia },
                );
                times[exp as usize].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    for (exp, t) in times.iter_mut().enumerate() {
        t.sort_by(f64::total_cmp);
        println!("exp {exp}: p10 {:.2} median {:.2} ms", t[t.len() / 10], t[t.len() / 2]);
    }
}
