//! Compile-time behaviour of `#[doudou::service]`: what compiles, and the errors for what
//! does not (snapshots in `ui/fail/*.stderr`; refresh with `TRYBUILD=overwrite`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
