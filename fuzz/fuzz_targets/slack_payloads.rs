//! Fuzz target: see `learnloop::fuzzing::slack_payloads` for what it reads and promises.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| learnloop::fuzzing::slack_payloads(data));
