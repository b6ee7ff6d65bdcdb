//! `massline`, the field client's command line (all of it in the library).

/// Reading changes makes many small allocations, which mimalloc takes with less
/// CPU than the C library's malloc (ARCHITECTURE.md, after the crates).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    massline_cli::main();
}
