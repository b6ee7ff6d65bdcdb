//! A listening meeting (征求意见会) recorded on the field client, and the
//! opinions heard there naming it, reach the server's typed rows, so the
//! township can count what each meeting heard; an opinion cannot name a
//! record that is not a listening meeting, and the link never changes.

use std::path::Path;
use std::process::{Command, Output};

use massline_tests::{TestServer, Township, cli_binary, massline};

fn try_massline(store: &Path, args: &[&str]) -> Output {
    Command::new(cli_binary())
        .arg("--store")
        .arg(store)
        .args(args)
        .env("MASSLINE_LANG", "en")
        .output()
        .unwrap()
}

#[test]
fn opinions_heard_at_a_meeting_are_counted_by_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let town = Township::new();
    let server = rt.block_on(TestServer::start(&town));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("li.db");
    massline(
        &store,
        &[
            "enroll",
            &town.code("li", server.addr),
            "--name",
            "李委员的电脑",
        ],
    );
    let meeting = massline(
        &store,
        &[
            "listening",
            "add",
            "--date",
            "2024-04-20",
            "--format",
            "representatives_meeting",
            "--place",
            "村委会议室",
            "--topics",
            "村务公开、低保评定",
            "--members",
            "wang",
            "--members",
            "zhang",
            "--others",
            "23",
        ],
    );
    let meeting = meeting.trim();
    let opinion = |text: &str, meeting: &str| {
        vec![
            "opinion".to_string(),
            "add".into(),
            "--channel".into(),
            "representatives_meeting".into(),
            "--source".into(),
            "villager".into(),
            "--area".into(),
            "village_affairs".into(),
            "--text".into(),
            text.into(),
            "--anonymous".into(),
            "--meeting".into(),
            meeting.into(),
        ]
    };
    let mut heard = Vec::new();
    for text in ["低保评定不公开", "村道年久失修"] {
        let args = opinion(text, meeting);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        heard.push(massline(&store, &args).trim().to_string());
    }
    // A problem is not a meeting.
    let problem = massline(
        &store,
        &[
            "problem",
            "add",
            "--title",
            "村务公开不及时",
            "--how-found",
            "self_search",
            "--area",
            "mass_service",
        ],
    );
    let args = opinion("名不副实", problem.trim());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let refused = try_massline(&store, &args);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("meeting"), "{err}");
    // The link is evidence: it never changes.
    let refused = try_massline(
        &store,
        &["opinion", "update", &heard[0], "--meeting", problem.trim()],
    );
    assert!(!refused.status.success());

    massline(&store, &["sync"]);
    town.wait_for_rows();
    let db = town.server_db();
    let counted: i64 = db
        .query_row(
            "SELECT count(*) FROM opinions WHERE lower(hex(meeting)) = ?1",
            [meeting],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(counted, 2);
    let (format, members, others): (String, i64, i64) = db
        .query_row(
            "SELECT format, members, others FROM listening_meetings WHERE lower(hex(doc_id)) = ?1",
            [meeting],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (format.as_str(), members, others),
        ("representatives_meeting", 2, 23)
    );
}
