#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| affiliate_sdk_fuzz::conversion_json(data));
