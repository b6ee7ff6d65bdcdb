//! `massline`, the field client's command line (all of it in the library).

fn main() {
    massline_cli::main();
}
