//! Fuzz target: see `learnloop::fuzzing::teams_activity` for what it reads and promises.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| learnloop::fuzzing::teams_activity(data));
