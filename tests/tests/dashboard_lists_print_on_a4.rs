//! The lists a village announces to the masses print: the rectification
//! list (整改清单公示) and the practical things promised, each with the
//! village's name and the day on top, printed by headless Chromium to an A4
//! PDF whose text holds the village's name and its measures, and nothing of
//! another village.

use massline_core::records::RecordKind;
use massline_tests::browser::{Browser, pdf_characters};
use massline_tests::web::{self, PASSWORD};
use massline_tests::{TestServer, Township};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rectification_list_and_practical_things_print_with_the_village_on_top() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let made = web::populate(&town, server.addr).await;
    let base = format!("https://127.0.0.1:{}", server.web.unwrap().port());
    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "zhang").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;

    let today = chrono::Local::now().date_naive().to_string();
    for (ledger, name, rows, words) in [
        (
            "announce",
            "print-announce",
            made.expected["dongcun"]["measures"],
            // (Words without 一, 月, 立 and the like: the font's glyph for
            // those is the Kangxi radical's too, and its ToUnicode map names
            // the radical.)
            "办事程序繁琐",
        ),
        (
            "practical",
            "print-practical",
            made.records
                .iter()
                .filter(|(v, r)| v == "dongcun" && r.kind() == RecordKind::PracticalThing)
                .count() as i64,
            "装路灯",
        ),
    ] {
        browser
            .open(&format!(
                "{base}/ledgers/{ledger}?village=dongcun&period=campaign&format=print"
            ))
            .await;
        assert_eq!(browser.text_of("print-village").await, "红星镇 东村");
        assert_eq!(browser.text_of("print-date").await, today);
        assert_eq!(browser.text_of("row-count").await, rows.to_string());
        let shot = browser.screenshot(name).await;
        eprintln!("printed page: {}", shot.display());
        let (path, pdf) = browser.print_pdf(name).await;
        eprintln!("PDF: {}", path.display());
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        assert!(pdf.len() > 5_000, "a PDF of {} bytes", pdf.len());
        let text = pdf_characters(&pdf);
        for c in "东村".chars().chain(words.chars()) {
            assert!(
                text.contains(&c),
                "{name}: the PDF has no {c:?} in its text"
            );
        }
        assert!(!text.contains(&'西'), "{name}: the PDF names 西村");
    }
    browser.close().await;
    server.stop().await;
}
