//! Every figure of the overview links to the ledger behind it, and that
//! ledger (filtered to the figure's village, period and status) lists as
//! many rows as the figure counts, which are as many as the records the test
//! made; every ledger reads back from its CSV and XLSX files with the rows
//! its page shows; the opinions ledger counts by channel and the share
//! answered as the records do.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use massline_core::Record;
use massline_core::records::{OpinionChannel, RecordKind};
use massline_server::web::ledger::LEDGERS;
use massline_tests::browser::Browser;
use massline_tests::web::{self, PASSWORD};
use massline_tests::{TestServer, Township};

/// The `href` of the link inside the element with id `id` in `html`.
fn link_in(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let cell = &html[at..];
    let cell = &cell[..cell.find("</td>")?];
    let href = cell.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

/// The text of the element with id `id` in `html`.
fn text_in(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[at..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].trim().to_string()
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, usize) {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no byte-order mark");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    (headers, rows.len())
}

fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_figure_opens_a_ledger_with_as_many_rows_as_it_counts() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let made = web::populate(&town, server.addr).await;
    let base = format!("https://127.0.0.1:{}", server.web.unwrap().port());
    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "liu").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;

    browser.open(&format!("{base}/?period=campaign")).await;
    let overview = browser.source().await;
    let mut followed = 0;
    for (village, figures) in &made.expected {
        // Practical things are shown with a warning beside the count when
        // not 3 to 5, so the overview test leaves them out; counted here.
        let practical = made
            .records
            .iter()
            .filter(|(v, r)| v == village && r.kind() == RecordKind::PracticalThing)
            .count() as i64;
        let figures = figures
            .iter()
            .map(|(k, n)| (*k, *n))
            .chain([("practical", practical)]);
        for (key, expected) in figures {
            let Some(href) = link_in(&overview, &format!("{village}-{key}")) else {
                continue;
            };
            assert!(href.contains(&format!("village={village}")), "{href}");
            let (status, page) = browser.fetch(&href).await;
            assert_eq!(status, 200, "{href}");
            let page = String::from_utf8(page).unwrap();
            assert_eq!(
                text_in(&page, "row-count"),
                expected.to_string(),
                "{village} {key}: {href}"
            );
            followed += 1;
        }
    }
    // Members, mobile, studied and not, sessions, opinions (3), problems,
    // measures (5), practical things (2), org life, notices, services: of
    // both villages.
    assert!(
        followed >= 2 * 19,
        "only {followed} figures link to a ledger"
    );

    // The records of each kind, counted here, are the rows of its ledger.
    let of_kind = |kind: RecordKind| {
        made.records
            .iter()
            .filter(|(_, r)| r.kind() == kind)
            .count()
    };
    let members = of_kind(RecordKind::Member);
    let expected_rows = |name: &str| match name {
        // Every member studied last in 2024, more than 30 days ago.
        "study" | "idle" => members,
        "mobile" => made
            .records
            .iter()
            .filter(|(_, r)| matches!(r, Record::Member(m) if m.mobile))
            .count(),
        "opinions" => of_kind(RecordKind::Opinion),
        "problems" => of_kind(RecordKind::Problem),
        "rectifications" | "announce" => of_kind(RecordKind::Rectification),
        "practical" => of_kind(RecordKind::PracticalThing),
        "services" => of_kind(RecordKind::ServiceRequest),
        "org_life" => of_kind(RecordKind::OrgLifeMeeting),
        "notices" => of_kind(RecordKind::Notice),
        "regulations" => of_kind(RecordKind::Regulation),
        "listening" => of_kind(RecordKind::ListeningMeeting),
        "sessions" => of_kind(RecordKind::StudySession),
        other => panic!("no count for the ledger {other}: add it here"),
    };
    for ledger in LEDGERS {
        let rows = expected_rows(ledger.name);
        assert!(rows > 0, "{}: the test made no records for it", ledger.name);
        let path = format!("/ledgers/{}?period=campaign", ledger.name);
        let (status, page) = browser.fetch(&path).await;
        assert_eq!(status, 200, "{path}");
        let page = String::from_utf8(page).unwrap();
        assert_eq!(text_in(&page, "row-count"), rows.to_string(), "{path}");
        if ledger.name == "study" {
            assert!(
                page.contains("2024-05-10（外出务工）"),
                "a member's missed session, and why: {page}"
            );
        }
        if ledger.name == "sessions" {
            assert!(
                page.contains("赵党员（外出务工）"),
                "the absent, by name, and why: {page}"
            );
        }
        let (status, csv) = browser.fetch(&format!("{path}&format=csv")).await;
        assert_eq!(status, 200);
        let (headers, n) = csv_rows(&csv);
        assert_eq!(n, rows, "{path} as CSV");
        assert_eq!(headers[0], "村", "{path}: headings in Chinese");
        let (status, xlsx) = browser.fetch(&format!("{path}&format=xlsx")).await;
        assert_eq!(status, 200);
        let sheet = xlsx_rows(xlsx);
        assert_eq!(sheet.len(), rows + 1, "{path} as XLSX: headings and rows");
        let heading: Vec<String> = sheet[0].iter().map(ToString::to_string).collect();
        assert_eq!(heading, headers, "{path}: the same headings in both files");
    }

    // Opinions by channel, and the share answered, as the records count them.
    browser
        .open(&format!("{base}/ledgers/opinions?period=campaign"))
        .await;
    let page = browser.source().await;
    let opinions: Vec<_> = made
        .records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Opinion(o) => Some(o),
            _ => None,
        })
        .collect();
    for channel in [
        OpinionChannel::HouseholdVisit,
        OpinionChannel::LetterOrPetition,
    ] {
        let n = opinions.iter().filter(|o| o.channel == channel).count();
        assert_eq!(
            text_in(&page, &format!("group-channel-{}", channel.code())),
            n.to_string()
        );
    }
    let answered = opinions.iter().filter(|o| o.answer.is_some()).count();
    assert_eq!(
        text_in(&page, "group-channel-total-share"),
        answered.to_string()
    );
    let shot = browser.screenshot("ledger-opinions").await;
    eprintln!("ledger: {}", shot.display());
    browser.close().await;
    server.stop().await;
}
