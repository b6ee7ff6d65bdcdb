//! `massline-server`: the township server's command line (see `massline_server::cli`).

/// Reading changes makes many small allocations, which mimalloc takes with less
/// CPU than the C library's malloc (ARCHITECTURE.md, after the crates).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    massline_server::cli::main();
}
