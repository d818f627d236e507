//! Fuzz target: see `learnloop::fuzzing::command_grammar` for what it reads and promises.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| learnloop::fuzzing::command_grammar(data));
