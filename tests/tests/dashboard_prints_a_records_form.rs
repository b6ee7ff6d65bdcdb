//! A record prints on A4 from its page: a problem as its control-inspection
//! table (对照检查表: background, causes, manifestations, direction,
//! solutions), a service request as the one-time checklist handed to the
//! villager (一次性告知单, an item a line), each with the township and
//! village on top. Headless Chromium prints them to PDF; another village's
//! cadre is told the record does not exist.

use massline_core::{Record, RecordKind};
use massline_tests::browser::{Browser, pdf_characters};
use massline_tests::web::{self, PASSWORD};
use massline_tests::{Device, TestServer, Township, service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_problem_prints_as_its_control_inspection_table_and_a_service_as_its_checklist() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    web::populate(&town, server.addr).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    // (Words without 一, 月, 立, 人, 日 and 示: the PDF font names those by
    // their Kangxi radicals.)
    let table = [
        ("background", "群众反映办证跑腿多"),
        ("causes", "服务意识不强"),
        ("manifestations", "材料要求反复告知"),
        ("direction", "增强宗旨观念"),
        ("solutions", "推进代办制度"),
    ];
    let mut fields = serde_json::json!({
        "title": "办证难",
        "how_found": "raised_by_masses",
        "area": "mass_service",
    });
    for (f, text) in table {
        fields[f] = text.into();
    }
    let problem = zhang
        .client
        .create(
            Record::from_fields(RecordKind::Problem, fields).unwrap(),
            None,
        )
        .unwrap();
    let request = zhang.client.create(service("张大爷"), None).unwrap();
    assert_eq!(zhang.client.sync().await.unwrap().refused, 0);
    town.wait_for_rows();

    let base = format!("https://127.0.0.1:{}", server.web.unwrap().port());
    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "zhang").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;
    let today = chrono::Local::now().date_naive().to_string();

    browser
        .open(&format!("{base}/r/{}", problem.to_hex()))
        .await;
    browser.click("record-print").await;
    assert_eq!(browser.text_of("print-title").await, "问题对照检查表");
    assert_eq!(browser.text_of("print-village").await, "红星镇 东村");
    assert_eq!(browser.text_of("print-date").await, today);
    for (f, text) in table.iter().chain(&[("title", "办证难")]) {
        assert_eq!(browser.text_of(&format!("field-{f}")).await, *text, "{f}");
    }
    browser.screenshot("print-problem").await;
    let (_, pdf) = browser.print_pdf("print-problem").await;
    let chars = pdf_characters(&pdf);
    for c in table
        .iter()
        .flat_map(|(_, t)| t.chars())
        .chain("东村".chars())
    {
        assert!(chars.contains(&c), "the PDF has no {c:?}");
    }

    browser
        .open(&format!("{base}/r/{}?format=print", request.to_hex()))
        .await;
    assert_eq!(browser.text_of("print-title").await, "为民服务一次性告知单");
    assert_eq!(
        browser.text_of("field-checklist").await,
        "户口本\n收入证明",
        "an item a line"
    );
    assert_eq!(
        browser.text_of("field-agent").await,
        "李委员",
        "people by their names"
    );
    browser.screenshot("print-service").await;

    // 西村's cadre reads no record of 东村, printed or not.
    browser.open(&format!("{base}/logout")).await;
    let chen = web::Https::new(&town, server.web.unwrap());
    let login = chen.login("chen", PASSWORD).await;
    for id in [problem, request] {
        for q in ["", "?format=print"] {
            let answer = chen.get_as(&login, &format!("/r/{}{q}", id.to_hex())).await;
            assert_eq!(answer.status, 404, "/r/{}{q}", id.to_hex());
        }
    }
    let odd = chen
        .get_as(&login, &format!("/r/{}?format=pdf", problem.to_hex()))
        .await;
    assert_eq!(odd.status, 400, "an unknown format is named");
    browser.close().await;
    server.stop().await;
}
