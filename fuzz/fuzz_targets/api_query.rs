#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| affiliate_sdk_fuzz::api_query(data));
