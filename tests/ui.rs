//! Compile-time behaviour: every class of shape error is a compile error a user can act on
//! (`tests/ui/fail/*.stderr` hold the messages), and every layer and option compiles and
//! runs (`tests/ui/pass`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
