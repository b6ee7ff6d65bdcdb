//! A record's own page shows its fields under the model's labels and its
//! history (who changed what, when), to whoever may read the record by the
//! sync's rules; another village's record is not found.

use massline_tests::browser::Browser;
use massline_tests::web::{self, PASSWORD};
use massline_tests::{TestServer, Township};

/// The record ids (last column) of a ledger's CSV rows whose `col`-th cell is `value`.
fn ids_where(csv: &[u8], col: usize, value: &str) -> Vec<String> {
    csv::Reader::from_reader(&csv[3..])
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[col] == value)
        .map(|r| r.iter().next_back().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_page_shows_fields_and_who_changed_them_to_its_readers_only() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    web::populate(&town, server.addr).await;
    let base = format!("https://127.0.0.1:{}", server.web.unwrap().port());
    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "liu").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;

    // The measure the township acknowledged: made by 张书记, filed by 刘干事.
    let (_, csv) = browser
        .fetch("/ledgers/rectifications?period=campaign&format=csv")
        .await;
    let filed = ids_where(&csv, 2, "一站式代办");
    assert_eq!(filed.len(), 1);
    let (_, csv) = browser
        .fetch("/ledgers/rectifications?village=xicun&period=campaign&format=csv")
        .await;
    let xicun = ids_where(&csv, 2, "每月主题党日");
    assert_eq!(xicun.len(), 1);

    browser.open(&format!("{base}/r/{}", filed[0])).await;
    assert_eq!(browser.text_of("field-measure").await, "一站式代办");
    assert_eq!(browser.text_of("field-term").await, "立即整改");
    assert_eq!(browser.text_of("field-responsible").await, "李委员、张书记"); // people by name
    let page = browser.source().await;
    assert!(page.contains("整改措施"), "the kind's label");
    let history = page.split("</h2>").nth(1).unwrap();
    assert!(history.contains("张书记 (zhang)"), "{history}");
    assert!(history.contains("新建"), "{history}");
    assert!(
        history.contains("刘干事 (liu)") && history.contains("报乡镇备案"),
        "the filing, by whom: {history}"
    );
    let shot = browser.screenshot("record").await;
    eprintln!("record: {}", shot.display());
    browser.close().await;

    // 张书记 of 东村 sees 东村's record, not 西村's, nor one that does not exist.
    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "zhang").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;
    assert_eq!(browser.fetch(&format!("/r/{}", filed[0])).await.0, 200);
    let (status, body) = browser.fetch(&format!("/r/{}", xicun[0])).await;
    assert_eq!(status, 404);
    assert!(!String::from_utf8_lossy(&body).contains("每月主题党日"));
    assert_eq!(
        browser.fetch(&format!("/r/{}", "0".repeat(32))).await.0,
        404
    );
    browser.close().await;
    server.stop().await;
}
