//! `massline-server`: the township server's command line (see `massline_server::cli`).

fn main() {
    massline_server::cli::main();
}
