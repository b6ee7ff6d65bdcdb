//! A ledger downloaded from the dashboard in a real browser, as CSV (UTF-8
//! with a byte-order mark) and XLSX (Chinese headings, a sheet named for the
//! ledger), reads back with the rows the page shows and the records count.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use massline_tests::browser::Browser;
use massline_tests::web::{self, PASSWORD};
use massline_tests::{TestServer, Township};

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no byte-order mark");
    csv::Reader::from_reader(&bytes[3..])
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn csv_headers(bytes: &[u8]) -> Vec<String> {
    csv::Reader::from_reader(&bytes[3..])
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()
}

fn xlsx_rows(bytes: Vec<u8>, sheet: &str) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec![sheet.to_string()]);
    let range = book.worksheet_range(sheet).unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledgers_download_as_csv_and_xlsx_with_the_rows_the_records_make() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let made = web::populate(&town, server.addr).await;
    let base = format!("https://127.0.0.1:{}", server.web.unwrap().port());
    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "liu").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;

    browser
        .open(&format!("{base}/ledgers/study?period=campaign"))
        .await;
    let members = made.total("members");
    assert_eq!(browser.text_of("row-count").await, members.to_string());
    let shot = browser.screenshot("ledger-study").await;
    eprintln!("ledger: {}", shot.display());

    let (status, csv) = browser
        .fetch("/ledgers/study?period=campaign&format=csv")
        .await;
    assert_eq!(status, 200);
    assert_eq!(csv_headers(&csv)[1], "姓名");
    let rows = csv_rows(&csv);
    assert_eq!(rows.len() as i64, members);
    let mut names: Vec<String> = rows.iter().map(|r| r[1].clone()).collect();
    let mut expected: Vec<String> = made.members.values().flatten().cloned().collect();
    names.sort();
    expected.sort();
    assert_eq!(names, expected);
    // 王党员: the session's 90 minutes and his own 45 and 30.
    let wang = rows.iter().find(|r| r[1] == "王党员").unwrap();
    assert_eq!(wang[5], "165");

    let (status, xlsx) = browser
        .fetch("/ledgers/study?period=campaign&format=xlsx")
        .await;
    assert_eq!(status, 200);
    let sheet = xlsx_rows(xlsx, "党员学习台账");
    assert_eq!(
        sheet.len() as i64,
        members + 1,
        "headings and a row per member"
    );
    assert_eq!(sheet[0][1], Data::String("姓名".into()));
    let wang = sheet
        .iter()
        .find(|r| r[1] == Data::String("王党员".into()))
        .unwrap();
    assert_eq!(wang[5], Data::Float(165.0));

    // The overdue measures of the township, as the page and both files list them.
    let overdue = made.total("overdue");
    browser
        .open(&format!(
            "{base}/ledgers/rectifications?period=campaign&status=overdue"
        ))
        .await;
    assert_eq!(browser.text_of("row-count").await, overdue.to_string());
    let shot = browser.screenshot("ledger-rectifications").await;
    eprintln!("ledger: {}", shot.display());
    let (_, csv) = browser
        .fetch("/ledgers/rectifications?period=campaign&status=overdue&format=csv")
        .await;
    assert_eq!(csv_rows(&csv).len() as i64, overdue);
    let (_, xlsx) = browser
        .fetch("/ledgers/rectifications?period=campaign&status=overdue&format=xlsx")
        .await;
    let sheet = xlsx_rows(xlsx, "整改措施台账");
    assert_eq!(sheet.len() as i64, overdue + 1);
    assert_eq!(sheet[0][5], Data::String("整改时限".into()));
    browser.close().await;
    server.stop().await;
}
