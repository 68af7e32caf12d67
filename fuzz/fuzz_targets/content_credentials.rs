#![no_main]
// harness.rs holds every target's entry point; this target runs one of them.
#![allow(dead_code)]

include!("../harness.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| content_credentials(data));
