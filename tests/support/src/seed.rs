//! Randomized tests draw from a seeded generator: each prints its seed, and setting
//! `HUDDLE_TEST_SEED` to it reruns the test with the same draws.

use rand::rngs::StdRng;
use rand::SeedableRng;

/// The environment variable that fixes the seed of every randomized test in the run.
pub const SEED_VARIABLE: &str = "HUDDLE_TEST_SEED";

/// A generator for `test`, seeded from [`SEED_VARIABLE`] when set and at random otherwise. The
/// seed is printed, so a failing run shows it beside the failure.
pub fn seeded_rng(test: &str) -> StdRng {
    let seed = match std::env::var(SEED_VARIABLE) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VARIABLE}={value:?} is not a seed (a number up to 2^64 - 1)")),
        Err(_) => rand::random(),
    };
    println!("{test}: seed {seed}; rerun with {SEED_VARIABLE}={seed}");
    StdRng::seed_from_u64(seed)
}
