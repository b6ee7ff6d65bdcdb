//! The township server's command line, built inside this crate so the process
//! tests can start, kill and restart a real server.

fn main() {
    massline_server::cli::main();
}
