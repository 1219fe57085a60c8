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

/// The bounds of the known-crash switch are above every real site: no seed
/// is skipped.
#[test]
fn no_seed_is_beyond_the_lua_bounds() {
    let Some(bounds) = targets::SKIP_DEEP_LUA else {
        return;
    };
    for target in [&targets::SITE_CONF, &targets::DOMAIN] {
        for seed in (target.seeds)().inputs {
            let shape = targets::lua_shape(&seed);
            assert!(
                shape.depth <= bounds.depth
                    && shape.operators <= bounds.operators
                    && shape.backticks == 0,
                "a {} seed has {shape:?}:\n{}",
                target.name,
                String::from_utf8_lossy(&seed)
            );
        }
    }
}

#[test]
fn the_lua_shape_skips_strings_and_comments() {
    let shape = |text: &[u8]| {
        let s = targets::lua_shape(text);
        (s.depth, s.operators, s.backticks)
    };
    assert_eq!(shape(b"{ a = { 'x{{(`', [[ {{ ]] } }"), (2, 0, 0));
    assert_eq!(shape(b"{ -- {{{ not not `\n a = 1 - -2 }"), (1, 2, 0));
    assert_eq!(
        shape(b"(function() return not true and 'a' .. 'b' end)()"),
        (3, 3, 0)
    );
    assert_eq!(shape(b"{ a = 1e-5, b = ... }"), (1, 0, 0));
    assert_eq!(shape(b"--[==[ { ]] { ]==] {} ` `"), (1, 0, 2));
}

#[test]
fn inventory_strings_are_plain_or_not() {
    assert!(targets::inventory_strings_are_plain(
        "[gateways.gw1]\nbind = [\"[::]\", \"0.0.0.0\"]\npeer_interface = \"x-%k\"\n"
    ));
    for text in [
        "[gateways.gw1]\nlog_level = \"info; on up \\\"id\\\"\"\n",
        "[gateways.gw1]\ninstance = \"../../x\"\n",
        "[gateways.\"gw\\n1\"]\n",
        "[gateways.gw1]\nlog_level = \"[\"\n",
    ] {
        assert!(!targets::inventory_strings_are_plain(text), "{text}");
    }
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
