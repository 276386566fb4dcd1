//! Compile-time behaviour: every class of shape error is a compile error a user can act on
//! (`tests/ui/fail/*.stderr` hold the messages), and every layer and option compiles and
//! runs (`tests/ui/pass`).

/// The compiler that wrote `tests/ui/fail/*.stderr`. rustc words its own notes differently
/// from one release to the next, so the files are exact for this release only.
const STDERR_WRITTEN_BY: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(&rustc)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        version.starts_with(STDERR_WRITTEN_BY),
        "tests/ui/fail/*.stderr were written by {STDERR_WRITTEN_BY}x, but this is {version}: \
         run `TRYBUILD=overwrite cargo test --test ui`, read the new messages as a user would, \
         and update STDERR_WRITTEN_BY and `rust-version` in Cargo.toml"
    );
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
