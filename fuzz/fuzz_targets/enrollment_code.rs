//! An enrollment code as a person types or scans it: a code or an error
//! saying what is wrong, never a panic; a code read writes out as text that
//! reads back as the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use massline_core::enrollment_code::EnrollmentCode;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<EnrollmentCode>() {
        Ok(code) => assert_eq!(code.to_string().parse::<EnrollmentCode>().ok(), Some(code)),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
