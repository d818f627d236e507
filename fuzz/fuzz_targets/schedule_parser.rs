//! Fuzz target: see `learnloop::fuzzing::schedule_parser` for what it reads and promises.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| learnloop::fuzzing::schedule_parser(data));
