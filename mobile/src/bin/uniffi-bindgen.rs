//! `uniffi-bindgen`: writes the Kotlin bindings of the built library, e.g.
//! `cargo run -p massline-mobile --features bindgen --bin uniffi-bindgen -- generate
//! --library target/debug/libmassline_mobile.so --language kotlin --out-dir OUT`.
//! Built only with the `bindgen` feature, so the default build stays small.

fn main() {
    uniffi::uniffi_bindgen_main()
}
