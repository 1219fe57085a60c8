//! Fuzzing in `cargo test` (issue 12): each test below fuzzes one kind of
//! hostile input for `GLUONVPN_FUZZ_SECONDS` (3 s by default, 60 s in CI)
//! in a child process, and fails on an input that panics, aborts, overflows
//! the stack, runs longer than 10 s or makes the process exceed 4 GiB of
//! address space. The book's "Fuzzing" page says how to run it longer and
//! how to replay a finding; `engine.rs` how it works, `targets.rs` what each
//! target runs.

mod engine;
mod targets;

#[test]
fn site_conf() {
    engine::run(&targets::SITE_CONF);
}

#[test]
fn domain() {
    engine::run(&targets::DOMAIN);
}

#[test]
fn site_mk() {
    engine::run(&targets::SITE_MK);
}

#[test]
fn inventory() {
    engine::run(&targets::INVENTORY);
}

#[test]
fn fastd_peer() {
    engine::run(&targets::FASTD_PEER);
}

/// The fuzzing process the tests above start; alone it does nothing.
#[test]
#[ignore = "the fuzz tests run it in a child process"]
fn child() {
    engine::child_main(targets::ALL);
}

#[test]
fn mutations_stay_within_the_length_and_are_reproducible() {
    let corpus = vec![b"{ a = { 'x' } }".to_vec(), b"key \"k\";".to_vec()];
    let run = |seed| {
        let mut rng = engine::Rng::new(seed);
        let mut outputs = Vec::new();
        for i in 0..2000 {
            let mut input = corpus[i % 2].clone();
            engine::mutate(&mut input, &corpus, &["not ", "{"], &mut rng, 4096);
            assert!(input.len() <= 4096);
            outputs.push(input);
        }
        outputs
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}
