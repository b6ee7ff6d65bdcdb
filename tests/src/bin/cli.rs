//! The field client's command line (`massline`), built inside this crate so
//! the process tests can start a real client and kill it mid-sync.

fn main() {
    massline_cli::main();
}
