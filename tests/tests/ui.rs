//! Compile-time tests of `#[heroku_addon]`: what it accepts, and what it says when it refuses.
//!
//! Regenerate the expected errors with `TRYBUILD=overwrite cargo test -p addon-tests --test ui`,
//! then read the diff: each error must point at the offending token and say what to write.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
