//! The Debian package (`cargo deb -p massline-server`) holds the server, its
//! systemd unit and its settings file, and the unit's command line, with the
//! settings as shipped, starts a server that serves and stops cleanly on
//! SIGTERM. The package is made from the binary the tests run and taken apart
//! with `dpkg-deb`; it is not installed (that would add a system user and a
//! service to the machine running the tests).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use massline_tests::server_binary;

/// Runs a command that must succeed; its standard output.
fn run(cmd: &mut Command) -> String {
    let out = cmd.stderr(Stdio::piped()).output().unwrap_or_else(|e| {
        panic!("{cmd:?}: {e} (cargo deb needs `cargo install cargo-deb --locked`)")
    });
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The package, made once for both tests.
fn package() -> &'static Path {
    static PACKAGE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, deb) = PACKAGE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let deb = build_package(dir.path());
        (dir, deb)
    });
    deb
}

/// Builds the package around the server binary the tests built, in `dir`.
fn build_package(dir: &Path) -> PathBuf {
    // cargo-deb takes `target/release/massline-server` from the profile's
    // folder of the target directory: give it one holding this binary.
    let target = dir.join("target");
    std::fs::create_dir_all(target.join("debug")).unwrap();
    std::fs::copy(server_binary(), target.join("debug/massline-server")).unwrap();
    let out = dir.join("deb");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    run(Command::new("cargo")
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", &target)
        .args([
            "deb",
            "-p",
            "massline-server",
            "--no-build",
            "--profile",
            "dev",
        ])
        .args(["--fast", "--quiet", "--output"])
        .arg(&out));
    let debs: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "one package: {debs:?}");
    debs[0].clone()
}

/// `KEY=value` lines of a settings file, unquoted.
fn settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.trim().to_string(), v.trim().trim_matches('"').to_string())
        })
        .collect()
}

/// The unit's one `key=value` setting of `[Service]`.
fn unit_value<'a>(unit: &'a str, key: &str) -> &'a str {
    let values: Vec<&str> = unit
        .lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect();
    assert_eq!(values.len(), 1, "{key} once in the unit");
    values[0]
}

#[test]
fn the_package_holds_the_server_its_unit_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let deb = package();

    let info = run(Command::new("dpkg-deb").arg("--info").arg(deb));
    assert!(info.contains("Package: massline-server"), "{info}");
    assert!(info.contains("Depends: adduser"), "{info}");
    let files = run(Command::new("dpkg-deb").arg("--contents").arg(deb));
    for (mode, path) in [
        ("-rwxr-xr-x", "./usr/bin/massline-server"),
        (
            "-rw-r--r--",
            "./usr/lib/systemd/system/massline-server.service",
        ),
        ("-rw-r--r--", "./etc/default/massline-server"),
        ("-rw-r--r--", "./usr/share/doc/massline-server/README.md"),
    ] {
        assert!(
            files
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(path)),
            "{path} ({mode}) in the package:\n{files}"
        );
    }

    let control = dir.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(deb).arg(&control));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/default/massline-server");
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(
        postinst.contains("adduser --system --group --home /var/lib/massline"),
        "the service's user is made on install:\n{postinst}"
    );
    assert!(
        postinst.contains("deb-systemd-helper enable massline-server.service"),
        "the service is enabled on install:\n{postinst}"
    );

    let root = dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&root));
    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/massline-server.service"))
        .unwrap();
    for (key, value) in [
        ("User", "massline"),
        ("StateDirectory", "massline"),
        ("StateDirectoryMode", "0700"),
        ("Restart", "on-failure"),
        ("LimitNOFILE", "65536"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0077"),
    ] {
        assert_eq!(unit_value(&unit, key), value, "{key} in the unit");
    }

    // systemd reads every line of the unit (an unknown or misspelt key is
    // reported and would leave that protection off).
    let checked = dir.path().join("massline-server.service");
    std::fs::write(
        &checked,
        unit.replace(
            "/usr/bin/massline-server",
            &root.join("usr/bin/massline-server").display().to_string(),
        ),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&checked)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
}

#[test]
fn the_units_command_with_the_shipped_settings_serves() {
    let dir = tempfile::tempdir().unwrap();
    let deb = package();
    let root = dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&root));
    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/massline-server.service"))
        .unwrap();
    let shipped = std::fs::read_to_string(root.join("etc/default/massline-server")).unwrap();

    // The command as systemd would run it: `${VAR}` as one word, `$VAR` split
    // on white space; the unit's own default first, the file's over it.
    let mut env: Vec<(String, String)> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    env.extend(settings(&shipped));
    let lookup = |k: &str| {
        env.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} is set nowhere"))
    };
    // Where systemd would put the state directory, the test puts its own.
    let state = dir.path().join("var-lib-massline");
    let ready = dir.path().join("ready");
    let mut words: Vec<String> = Vec::new();
    for word in unit_value(&unit, "ExecStart").split_whitespace() {
        if let Some(k) = word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
            words.push(lookup(k));
        } else if let Some(k) = word.strip_prefix('$') {
            words.extend(lookup(k).split_whitespace().map(str::to_string));
        } else {
            words.push(word.to_string());
        }
    }
    let words: Vec<String> = words
        .into_iter()
        .map(|w| {
            w.replace("/var/lib/massline", &state.display().to_string())
                .replace("0.0.0.0:7443", "127.0.0.1:0")
        })
        .collect();
    assert_eq!(words[0], "/usr/bin/massline-server");
    assert!(
        words.contains(&"--backup-every".to_string()),
        "scheduled backups are on as shipped: {words:?}"
    );
    std::fs::create_dir_all(&state).unwrap();
    let mut server = Command::new(root.join("usr/bin/massline-server"))
        .args(&words[1..])
        .args(["--web", "127.0.0.1:0", "--ready-file"])
        .arg(&ready)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !ready.exists() {
        if let Some(status) = server.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the unit's command exited with {status}: {words:?}\n{err}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not serving after 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let addr: std::net::SocketAddr = std::fs::read_to_string(&ready)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::net::TcpStream::connect(addr).expect("the gRPC port takes connections");
    assert!(state.join("massline.db").exists(), "data in the state dir");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM ends the service cleanly: {status}"
    );
}
