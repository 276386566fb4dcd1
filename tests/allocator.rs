//! The allocator setting of the fast kernels (`typenet::ops::cpu::keep_freed_buffers`) is
//! decided once per process, so each scenario runs in a child process: this test binary
//! re-run with only the ignored `scenario` test and `SCENARIO` in its environment.
//!
//! On glibc the setting is also observed without timing: with it, a 24 MiB allocation
//! comes from the heap; without it, from its own `mmap` (glibc's default threshold starts
//! at 128 KiB and only rises as far as the largest mmapped block freed before).

use std::process::Command;
use typenet::ops::cpu::{keep_freed_buffers, keeps_freed_buffers, KEEP_FREED_BUFFERS_ENV};
use typenet::ops::relu::ReluKernel;
use typenet::prelude::*;

/// Runs one kernel (a ReLU on `Cpu`), which decides the setting unless the program did.
fn run_a_kernel() {
    let dev = Cpu::default();
    let x: Tensor<Rank1<4>, f32, Cpu> = dev.tensor([-1.0, 0.0, 1.0, 2.0]);
    let y = <Cpu as ReluKernel<f32>>::try_relu(x).unwrap();
    assert_eq!(y.array(), [0.0, 0.0, 1.0, 2.0]);
}

/// Whether a fresh 24 MiB allocation is served by its own `mmap`, on glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn large_block_is_mmapped() -> Option<bool> {
    #[repr(C)]
    struct Mallinfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> Mallinfo2;
    }
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let before = unsafe { mallinfo2() }.hblkhd;
    let block = vec![1u8; 24 << 20];
    let during = unsafe { mallinfo2() }.hblkhd;
    drop(std::hint::black_box(block));
    Some(during >= before + (24 << 20))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn large_block_is_mmapped() -> Option<bool> {
    None
}

const ON_GLIBC: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// The child: what `SCENARIO` names. Ignored in ordinary runs (it needs a process of its own).
#[test]
#[ignore = "run by the other tests in a child process"]
fn scenario() {
    let scenario = std::env::var("SCENARIO").expect("SCENARIO names the case");
    assert_eq!(
        keeps_freed_buffers(),
        None,
        "nothing decided before the first kernel"
    );
    match scenario.as_str() {
        "default" => {
            run_a_kernel();
            assert_eq!(keeps_freed_buffers(), Some(ON_GLIBC));
            // Decided by the kernel: a later call changes nothing and says so.
            assert!(!keep_freed_buffers(false));
            assert_eq!(keeps_freed_buffers(), Some(ON_GLIBC));
            if ON_GLIBC {
                assert_eq!(large_block_is_mmapped(), Some(false));
            }
        }
        "function" => {
            assert!(keep_freed_buffers(false), "the first call decides");
            run_a_kernel();
            assert_eq!(keeps_freed_buffers(), Some(false));
            assert!(!keep_freed_buffers(true));
            if ON_GLIBC {
                assert_eq!(large_block_is_mmapped(), Some(true));
            }
        }
        "environment" => {
            run_a_kernel();
            assert_eq!(keeps_freed_buffers(), Some(false));
            if ON_GLIBC {
                assert_eq!(large_block_is_mmapped(), Some(true));
            }
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn run_scenario(name: &str, env: Option<&str>) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "scenario", "--ignored", "--test-threads=1"])
        .env("SCENARIO", name)
        .env_remove(KEEP_FREED_BUFFERS_ENV);
    if let Some(value) = env {
        cmd.env(KEEP_FREED_BUFFERS_ENV, value);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "scenario {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_first_kernel_keeps_freed_buffers_by_default() {
    run_scenario("default", None);
    // Any other value than an explicit "off" keeps the default.
    run_scenario("default", Some("1"));
}

#[test]
fn keep_freed_buffers_false_before_the_first_kernel_opts_out() {
    // The explicit call wins over the environment.
    run_scenario("function", Some("1"));
}

#[test]
fn the_environment_variable_opts_out() {
    for value in ["0", "false", "OFF", "no"] {
        run_scenario("environment", Some(value));
    }
}
