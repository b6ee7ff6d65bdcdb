//! The township officer logs in to the dashboard in a real browser (headless
//! Chromium over HTTPS) and sees, for every village, figures equal to counts
//! made here from the records the devices synced; each figure links to the
//! ledger rows behind it; the page switches to English.

use massline_tests::browser::Browser;
use massline_tests::web::{self, PASSWORD};
use massline_tests::{TestServer, Township};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_sees_every_villages_figures_as_the_records_count_them() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let made = web::populate(&town, server.addr).await;
    let base = format!("https://127.0.0.1:{}", server.web.unwrap().port());

    let browser = Browser::start().await;
    browser.open(&format!("{base}/")).await;
    assert!(
        browser.url().await.ends_with("/login"),
        "not sent to log in"
    );
    browser.type_into("person", "liu").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;
    assert!(
        browser.source().await.contains("全镇概览"),
        "no overview after login"
    );

    browser.open(&format!("{base}/?period=campaign")).await;
    for (village, figures) in &made.expected {
        for (key, n) in figures {
            let id = format!("{village}-{key}");
            assert_eq!(browser.text_of(&id).await, n.to_string(), "#{id}");
        }
    }
    for key in made.expected["dongcun"].keys() {
        let id = format!("total-{key}");
        assert_eq!(
            browser.text_of(&id).await,
            made.total(key).to_string(),
            "#{id}"
        );
    }
    assert!(!browser.text_of("as-of").await.is_empty());
    let shot = browser.screenshot("overview").await;
    eprintln!("overview: {}", shot.display());

    // A figure's link leads to the ledger rows it counts.
    for (id, key) in [
        ("dongcun-studied", "studied"),
        ("dongcun-overdue", "overdue"),
    ] {
        let href = browser
            .client
            .find(fantoccini::Locator::Css(&format!("#{id} a")))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        browser.open(&format!("{base}{href}")).await;
        assert_eq!(
            browser.text_of("row-count").await,
            made.expected["dongcun"][key].to_string(),
            "{href}"
        );
        browser.open(&format!("{base}/?period=campaign")).await;
    }

    browser.click("switch-lang").await;
    let page = browser.source().await;
    assert!(
        page.contains("lang=\"en\"") && page.contains("Township overview"),
        "not in English"
    );
    assert_eq!(
        browser.text_of("dongcun-members").await,
        made.expected["dongcun"]["members"].to_string()
    );
    // The choice stays for the next page.
    browser.open(&format!("{base}/ledgers/study")).await;
    assert!(
        browser.source().await.contains("Study ledger"),
        "English forgotten"
    );
    browser.close().await;
    server.stop().await;
}
