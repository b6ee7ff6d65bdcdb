// A build script makes cargo take the crate's build dependencies into account.
fn main() {}
