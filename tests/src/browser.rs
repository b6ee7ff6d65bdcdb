//! A real browser for the dashboard's tests: headless Chromium, driven
//! through chromedriver (WebDriver) by fantoccini, with a fresh profile.
//!
//! Without chromedriver the tests fail, saying what to install: a browser
//! test that passes without a browser proves nothing.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;

/// What to install when the browser is missing.
pub const INSTALL: &str = "the dashboard's browser tests need Chromium and its WebDriver: \
    `apt-get install -y chromium chromium-driver` (Debian), or set MASSLINE_CHROMEDRIVER \
    and MASSLINE_CHROMIUM to their paths";

/// Chromium's flags: headless, and nothing that reaches for the network on
/// its own (without them a closed network makes it hang).
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--window-size=1280,900",
    // The server's certificate is its own, self-signed.
    "--ignore-certificate-errors",
];

fn find(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A headless Chromium under chromedriver; stopped when dropped.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a browser with a fresh profile.
    pub async fn start() -> Browser {
        let driver_path =
            find("MASSLINE_CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| panic!("{INSTALL}"));
        let chromium = find(
            "MASSLINE_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        )
        .unwrap_or_else(|| panic!("{INSTALL}"));
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut caps = serde_json::Map::new();
        caps.insert("acceptInsecureCerts".into(), json!(true));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "args": args, "binary": chromium }),
        );
        // The port is free when picked, not when chromedriver binds it: a
        // server started meanwhile may take it, and chromedriver then exits.
        // It is started again on another.
        let mut starts = 0;
        let (client, driver) = 'start: loop {
            starts += 1;
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            // A process group of its own, so the browsers it starts go with it.
            let mut driver = Command::new(&driver_path)
                .arg(format!("--port={port}"))
                .process_group(0)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {}: {e}; {INSTALL}", driver_path.display())
                });
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if starts < 3 && matches!(driver.try_wait(), Ok(Some(_))) {
                    continue 'start;
                }
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                let mut builder = ClientBuilder::new(connector);
                let session = builder.capabilities(caps.clone()).connect(&url);
                // Bounded: what holds the port may not be chromedriver.
                match tokio::time::timeout(Duration::from_secs(15), session).await {
                    Ok(Ok(c)) => break 'start (c, driver),
                    _ if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Ok(Err(e)) => panic!("no browser session: {e}; {INSTALL}"),
                    Err(_) => panic!("no browser session: {url} did not answer; {INSTALL}"),
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Opens `url` and waits for its page.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Logs in at the dashboard at `base` through its login form.
    pub async fn log_in(&self, base: &str, person: &str, password: &str) {
        self.open(&format!("{base}/login")).await;
        self.type_into("person", person).await;
        self.type_into("password", password).await;
        self.click("login").await;
    }

    /// The text of the element with this id.
    pub async fn text_of(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no element #{id}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Types into the field with this id.
    pub async fn type_into(&self, id: &str, text: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }

    /// Clicks the element with this id (a link or a form's button) and
    /// waits for the page it leads to: WebDriver's click may return while a
    /// form's answer is still on its way.
    pub async fn click(&self, id: &str) {
        // A mark on the page that is left; the next page has none.
        self.client
            .execute("window.__leaving = true;", vec![])
            .await
            .unwrap();
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no element #{id}: {e}"))
            .click()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self
                .client
                .execute(
                    "return !window.__leaving && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if arrived {
                return;
            }
            assert!(Instant::now() < deadline, "clicking #{id} led to no page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// The current address.
    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Fetches `path` from the page's own origin, as the page would (with
    /// its cookies): the status and the body's bytes.
    pub async fn fetch(&self, path: &str) -> (u16, Vec<u8>) {
        self.fetch_with(path, json!({ "credentials": "same-origin" }))
            .await
    }

    /// Fetches `path` with these `fetch` options (method, body, headers).
    pub async fn fetch_with(&self, path: &str, options: Value) -> (u16, Vec<u8>) {
        let script = r#"
            const [path, options, done] = arguments;
            fetch(path, options)
              .then(async r => {
                const bytes = new Uint8Array(await r.arrayBuffer());
                let s = '';
                for (let i = 0; i < bytes.length; i += 0x8000) {
                  s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
                }
                done([r.status, btoa(s)]);
              })
              .catch(e => done([0, btoa(String(e))]));
        "#;
        let answer = self
            .client
            .execute_async(script, vec![json!(path), options])
            .await
            .unwrap();
        let status = answer[0].as_u64().unwrap() as u16;
        let body = base64::engine::general_purpose::STANDARD
            .decode(answer[1].as_str().unwrap())
            .unwrap();
        // No status: the request itself failed; say why rather than compare 0.
        assert_ne!(
            status,
            0,
            "fetch {path}: {}",
            String::from_utf8_lossy(&body)
        );
        (status, body)
    }

    /// Saves a screenshot of the page as `<target>/screenshots/<name>.png`;
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session and the browser.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        let _ = killpg(Pid::from_raw(self.driver.id() as i32), Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}

/// The cargo target directory the tests were built in
/// (`target/<profile>/deps/<test>` → `target/`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

impl Browser {
    /// Prints the page to PDF as Chromium does on A4 paper, saves it as
    /// `<target>/screenshots/<name>.pdf`, and returns its path and bytes.
    pub async fn print_pdf(&self, name: &str) -> (PathBuf, Vec<u8>) {
        let pdf = self
            .client
            .print(fantoccini::wd::PrintConfiguration::default())
            .await
            .unwrap();
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        (path, pdf)
    }
}

/// The characters a PDF's text is made of: every Unicode character its
/// fonts' `ToUnicode` maps give a glyph (the text a reader can search and
/// copy), read from its deflated streams.
pub fn pdf_characters(pdf: &[u8]) -> std::collections::BTreeSet<char> {
    use std::io::Read;
    let mut out = std::collections::BTreeSet::new();
    let mut rest = pdf;
    while let Some(at) = find_bytes(rest, b"stream") {
        let mut body = &rest[at + 6..];
        body = body.strip_prefix(b"\r").unwrap_or(body);
        body = body.strip_prefix(b"\n").unwrap_or(body);
        let end = find_bytes(body, b"endstream").unwrap_or(body.len());
        let mut text = Vec::new();
        if flate2::read::ZlibDecoder::new(&body[..end])
            .read_to_end(&mut text)
            .is_ok()
        {
            let text = String::from_utf8_lossy(&text);
            if text.contains("beginbfchar") || text.contains("beginbfrange") {
                out.extend(cmap_characters(&text));
            }
        }
        // On past the `endstream`, which holds the word `stream` too.
        rest = &body[(end + b"endstream".len()).min(body.len())..];
    }
    out
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The Unicode characters of a ToUnicode CMap: the last `<hex>` of each
/// `bfchar` line, and each range of `bfrange` lines.
fn cmap_characters(cmap: &str) -> Vec<char> {
    let hex = |s: &str| u32::from_str_radix(s.trim_matches(|c| c == '<' || c == '>'), 16).ok();
    let mut out = Vec::new();
    for line in cmap.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [_, to] => out.extend(hex(to).and_then(char::from_u32)),
            [from, to, first] => {
                if let (Some(a), Some(b), Some(c)) = (hex(from), hex(to), hex(first)) {
                    out.extend((0..=b.saturating_sub(a)).filter_map(|i| char::from_u32(c + i)));
                }
            }
            _ => {}
        }
    }
    out
}
