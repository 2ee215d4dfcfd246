//! `docs/conformance.md` must match what the tests cover now

#[test]
fn committed_matrix_is_fresh() {
    let Some(shared) = tcp_tests::shared::shared_dir() else {
        return;
    };
    let expect = tcp_tests::conformance::generate(&shared).unwrap();
    let path = tcp_tests::conformance::workspace_root().join("docs/conformance.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expect,
        "docs/conformance.md is stale: run `cargo run -p tcp-tests --bin conformance`"
    );
}
