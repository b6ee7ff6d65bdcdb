#!/usr/bin/env bash
# Runs every test of massline: the Rust workspace (unit, end-to-end, faults,
# security), then the Kotlin API of mobile/ on this JVM against the library
# built for this host and a real massline-server.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace --locked "$@"
# The encrypted store (SQLCipher, linked to the system's libcrypto) in a
# command of its own: the feature never enters the workspace build.
cargo test -p massline-tests --locked --features sqlcipher --test encrypted_store "$@"
# Maven builds what it needs with cargo (fresh after the line above), writes
# the bindings and runs the JUnit tests. MAVEN_REPO_LOCAL moves its cache.
mvn -B -ntp ${MAVEN_REPO_LOCAL:+-Dmaven.repo.local="$MAVEN_REPO_LOCAL"} -f mobile/kotlin/pom.xml test
