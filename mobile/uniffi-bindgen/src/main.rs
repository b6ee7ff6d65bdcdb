//! `uniffi-bindgen LIBRARY OUT_DIR`: writes the Kotlin bindings of the built
//! `libmassline_mobile` (read in library mode, with `mobile/uniffi.toml` and
//! `model/uniffi.toml`: the library's own API and the model's types it uses)
//! into OUT_DIR. Run it from the massline workspace, where `cargo metadata` finds
//! the crate's configuration.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [library, out_dir] = args.as_slice() else {
        eprintln!("usage: uniffi-bindgen LIBRARY OUT_DIR");
        return ExitCode::from(2);
    };
    let options = uniffi::GenerateOptions {
        languages: vec![uniffi::TargetLanguage::Kotlin],
        source: library.as_str().into(),
        out_dir: out_dir.as_str().into(),
        // Both crates the library exports: massline_mobile and the model's types.
        crate_filter: None,
        metadata_no_deps: true,
        ..Default::default()
    };
    match uniffi::generate(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uniffi-bindgen: {e:?}");
            ExitCode::FAILURE
        }
    }
}
