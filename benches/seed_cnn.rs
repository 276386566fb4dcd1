//! The seed models on the `Cpu`, for the README's speed table. `benches/pytorch_seed_cnn.py`
//! times the same models, batch sizes, inputs and optimizer in PyTorch: run both in one
//! session and compare ratios, as the machines here are shared and noisy.
//!
//! Last, the bench times the machine's limits on all cores: a large square `f32` gemm, and
//! fused multiply-adds alone (where the CPU has AVX-512). It prints the seed CNN's training
//! step as a fraction of the gemm's, and how long the seed LSTM's batch-64 inference would
//! take if its matrix products ran at each limit and nothing else took any time.
//!
//! `cargo bench --bench seed_cnn`

#[macro_use]
mod seed_models;

use criterion::{black_box, measurement::WallTime};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use seed_models::{forward_backward_flops, Crnn, SeedCnn, SeedLstm, BATCH};
use std::time::{Duration, Instant};
use typenet::ops::cpu::{matmul, Mat};
use typenet::prelude::*;

/// Benchmarks `$model` on inputs of shape `($batch, $($dim),*)`: inference at batch 1 and 64
/// and one training step (forward, backward, Adam) at batch 64. Returns the median seconds
/// over criterion's samples of the batch-64 inference and of the training step, each where
/// it ran (a filter may skip it).
macro_rules! bench_model {
    ($c:expr, $name:literal, $model:ty, [$($dim:literal),*]) => {{
        let dev: Cpu = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<$model, f32>();
        let mut group = $c.benchmark_group($name);

        let one: Tensor<Rank4Or3!(1, $($dim),*), f32, _> = dev.sample_uniform();
        group.throughput(Throughput::Elements(1));
        group.bench_function("inference_batch_1", |b| b.iter(|| model.forward(one.clone())));

        let batch: Tensor<Rank4Or3!(BATCH, $($dim),*), f32, _> = dev.sample_uniform();
        group.throughput(Throughput::Elements(BATCH as u64));
        let mut inference = Samples::default();
        group.bench_function("inference_batch_64", |b| {
            b.iter_custom(|iters| inference.time(iters, || model.forward(batch.clone())))
        });

        let mut step = train_step!(dev, &model, $model, [$($dim),*]);
        let mut seconds = Samples::default();
        group.bench_function("train_step_batch_64", |b| {
            b.iter_custom(|iters| seconds.time(iters, || step(&mut model)))
        });
        group.finish();
        (inference.median(), seconds.median())
    }};
}

/// Seconds per iteration of each batch of iterations criterion timed through
/// [`Samples::time`], kept so that a figure derived from two benchmarks (a fraction of the
/// machine's limit) comes from the very runs criterion reports.
#[derive(Default)]
struct Samples(Vec<f64>);

impl Samples {
    /// Runs `routine` `iters` times and returns the time taken, for `iter_custom`.
    fn time<R>(&mut self, iters: u64, mut routine: impl FnMut() -> R) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(routine());
        }
        let elapsed = start.elapsed();
        self.0.push(elapsed.as_secs_f64() / iters as f64);
        elapsed
    }

    /// `None` where the benchmark did not run.
    fn median(mut self) -> Option<f64> {
        self.0.sort_by(f64::total_cmp);
        self.0.get(self.0.len() / 2).copied()
    }
}

/// The machine's limit for this work: FLOP/s of an `N x N` by `N x N` `f32` product on all
/// cores, through the gemm typenet's kernels call.
fn sgemm_peak(group: &mut BenchmarkGroup<WallTime>) -> Option<f64> {
    const N: usize = 1024;
    let flops = 2 * N * N * N;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let a: Vec<f32> = (0..N * N).map(|i| (i % 7) as f32 - 3.0).collect();
    let b: Vec<f32> = (0..N * N).map(|i| (i % 5) as f32 - 2.0).collect();
    let mut c = vec![0.0f32; N * N];
    let mut seconds = Samples::default();
    group.throughput(Throughput::Elements(flops as u64));
    group.bench_function(format!("sgemm_{N}_{threads}_threads"), |bench| {
        bench.iter_custom(|iters| {
            seconds.time(iters, || {
                matmul(
                    &mut c,
                    Mat::new(&a, N, N),
                    Mat::new(&b, N, N),
                    false,
                    threads,
                )
            })
        })
    });
    seconds.median().map(|s| flops as f64 / s)
}

/// The machine's arithmetic limit: FLOP/s of fused multiply-adds alone, 16 `f32` lanes
/// wide, on one thread per core, where the CPU has AVX-512 (`None` elsewhere). Each thread
/// keeps 12 independent sums, enough to fill both FMA pipes of a core through their latency.
fn fma_peak(group: &mut BenchmarkGroup<WallTime>) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx512f")]
        unsafe fn fma_loop(iters: u64, m: f32) -> f32 {
            let m = _mm512_set1_ps(m);
            let mut sums = [_mm512_set1_ps(1.0); 12];
            for _ in 0..iters {
                for s in &mut sums {
                    *s = _mm512_fmadd_ps(*s, m, m);
                }
            }
            sums.iter().map(|s| _mm512_reduce_add_ps(*s)).sum()
        }

        if !is_x86_feature_detected!("avx512f") {
            return None;
        }
        // About 6 ms a call on a 4 GHz core: a thread's start is lost in it.
        const ITERS: u64 = 1 << 22;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let flops = threads as u64 * ITERS * 12 * 16 * 2;
        let mut seconds = Samples::default();
        group.throughput(Throughput::Elements(flops));
        group.bench_function(format!("fma_{threads}_threads"), |bench| {
            bench.iter_custom(|iters| {
                seconds.time(iters, || {
                    std::thread::scope(|scope| {
                        for _ in 0..threads {
                            // SAFETY: the CPU has AVX-512 F, checked above.
                            scope.spawn(|| unsafe { fma_loop(ITERS, black_box(0.999_999)) });
                        }
                    })
                })
            })
        });
        seconds.median().map(|s| flops as f64 / s)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = group;
        None
    }
}

fn seed_models(c: &mut Criterion) {
    let (_, cnn_step) = bench_model!(c, "seed_cnn", SeedCnn, [1, 28, 28]);
    let (lstm_inference, _) = bench_model!(c, "seed_lstm", SeedLstm, [28, 28]);
    bench_model!(c, "crnn", Crnn, [1, 28, 28]);

    let mut group = c.benchmark_group("machine_limit");
    let peak = sgemm_peak(&mut group);
    let fma = fma_peak(&mut group);
    group.finish();
    if let (Some(peak), Some(fma)) = (peak, fma) {
        println!(
            "sgemm peak: {:.0}% of the FMA peak ({:.1} GFLOP/s)",
            100.0 * peak / fma,
            fma / 1e9
        );
    }
    if let Some(inference) = lstm_inference {
        // A recurrent layer's FLOPS are its matrix products alone (not its gates).
        let products = (BATCH * SeedLstm::FLOPS) as f64;
        let at = |limit: Option<f64>| {
            limit.map_or("-".to_string(), |l| format!("{:.3} ms", 1e3 * products / l))
        };
        println!(
            "seed LSTM batch-64 inference: {:.3} ms; its products ({:.1} MFLOP) alone would \
             take {} at the sgemm peak, {} at the FMA peak",
            1e3 * inference,
            products / 1e6,
            at(peak),
            at(fma),
        );
    }
    if let (Some(step), Some(peak)) = (cnn_step, peak) {
        let reached = (BATCH * forward_backward_flops(SeedCnn::FLOPS)) as f64 / step;
        println!(
            "seed CNN training step: {:.1} GFLOP/s = {:.0}% of this machine's sgemm peak \
             ({:.1} GFLOP/s)\n  (medians of criterion's samples; {:.2} MFLOP per sample, \
             forward and backward, from the model's type)",
            reached / 1e9,
            100.0 * reached / peak,
            peak / 1e9,
            forward_backward_flops(SeedCnn::FLOPS) as f64 / 1e6,
        );
    }
}

criterion_group!(benches, seed_models);
criterion_main!(benches);
