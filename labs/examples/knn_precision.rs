//! The expanded form's precision trap, measured: `cargo run --release -p perflab-labs --example
//! knn_precision [n=..,d=..,m=..,k=..]`.
//!
//! Runs the `blocked` rung with each part of its fix switched on or off (see `distance::exact`), and
//! the expanded form in f64 (scikit-learn's fix), on normal and on shifted data, and prints, against the direct form's exact answer (`select`):
//! recall@k (the fraction of true neighbours found), the fraction of queries whose list came out
//! exactly right (same points, same order), the largest error of a returned distance, and the
//! median time of 5 calls on one thread.

use std::time::Instant;

use perflab_labs::knn::solutions::blocked::{Fix, knn_with};
use perflab_labs::knn::solutions::select;
use perflab_labs::knn::topk::{TopK, vote};
use perflab_labs::knn::{Answer, DataSet, Inputs, generate, parse_size};

struct Outcome {
    indices: Vec<u32>,
    distances: Vec<f32>,
    seconds: f64,
}

fn run(inputs: &Inputs, kernel: impl Fn(&Inputs, &mut Answer)) -> Outcome {
    let (m, k) = (inputs.shape.m, inputs.shape.k);
    let (mut indices, mut distances, mut classes) = (vec![0; m * k], vec![0.0; m * k], vec![0; m]);
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        kernel(inputs, &mut Answer { indices: &mut indices, distances: &mut distances, classes: &mut classes });
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Outcome { indices, distances, seconds: times[2] }
}

fn main() {
    let size = std::env::args().nth(1).unwrap_or_else(|| "n=50000,d=64,m=200,k=10".into());
    let (shape, _) = parse_size(&size).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    println!("{shape}, one thread; exact answer: the direct form (select)\n");
    println!("| data | expanded form | recall@{} | exact lists | max distance error | time |", shape.k);
    println!("|---|---|---|---|---|---|");
    for data in [DataSet::Normal, DataSet::Shifted] {
        let (train, labels, queries) = generate(shape, data, 42);
        let inputs = Inputs { shape, train: &train, labels: &labels, queries: &queries };
        let exact = pool.install(|| run(&inputs, select::knn));
        let fixes = [
            ("alone", Fix { centre: false, rerank: false }),
            ("centred", Fix { centre: true, rerank: false }),
            ("re-ranked", Fix { centre: false, rerank: true }),
            ("centred + re-ranked (the rung)", Fix { centre: true, rerank: true }),
        ];
        for (name, fix) in fixes {
            let got = pool.install(|| run(&inputs, |i, a| knn_with(fix, i, a)));
            report(data, name, shape.k, &exact, &got);
        }
        let got = pool.install(|| run(&inputs, expanded_in_f64));
        report(data, "in f64, untiled (scikit-learn's fix; its time is not comparable)", shape.k, &exact, &got);
    }
}

/// The expanded form computed in f64 (norms and products), as scikit-learn upcasts float32: a
/// plain loop over queries and points, not tiled, so only its accuracy compares with the rows above.
fn expanded_in_f64(inputs: &Inputs, answer: &mut Answer) {
    let norm = |row: &[f32]| row.iter().map(|&x| x as f64 * x as f64).sum::<f64>();
    let point_norms: Vec<f64> = (0..inputs.shape.n).map(|i| norm(inputs.point(i))).collect();
    for q in 0..inputs.shape.m {
        let query = inputs.query(q);
        let query_norm = norm(query);
        let (indices, distances, class) = answer.query_mut(q, inputs.shape.k);
        let mut top = TopK::new(distances, indices);
        for (i, &point_norm) in point_norms.iter().enumerate() {
            let dot: f64 = query.iter().zip(inputs.point(i)).map(|(&a, &b)| a as f64 * b as f64).sum();
            top.push((query_norm + point_norm - 2.0 * dot).max(0.0) as f32, i as u32);
        }
        top.into_sorted();
        *class = vote(inputs.labels, indices);
    }
}

fn report(data: DataSet, name: &str, k: usize, exact: &Outcome, got: &Outcome) {
    let lists = exact.indices.chunks(k).zip(got.indices.chunks(k));
    let (mut found, mut exact_lists, mut queries) = (0, 0, 0);
    for (want, have) in lists {
        found += have.iter().filter(|i| want.contains(i)).count();
        exact_lists += usize::from(want == have);
        queries += 1;
    }
    // The error of each returned distance against the exact distance of the same point.
    let mut worst = 0.0f64;
    for (q, have) in got.indices.chunks(k).enumerate() {
        for (slot, &i) in have.iter().enumerate() {
            if let Some(at) = exact.indices[q * k..][..k].iter().position(|&j| j == i) {
                let error = (got.distances[q * k + slot] as f64 - exact.distances[q * k + at] as f64).abs();
                worst = worst.max(error);
            }
        }
    }
    println!(
        "| {} | {name} | {:.3} | {:.0}% | {worst:.2e} | {:.1} ms |",
        data.name(),
        found as f64 / (queries * k).max(1) as f64,
        100.0 * exact_lists as f64 / queries.max(1) as f64,
        got.seconds * 1e3
    );
}
