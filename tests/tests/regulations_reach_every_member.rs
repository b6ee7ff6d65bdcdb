//! A rule the village adopts (建章立制), recorded by a cadre on the field
//! client's command line, reaches a member's phone (rules are the village's
//! shared records) and the server's typed row; one announced before it was
//! adopted is refused, naming the field.

use std::process::Command;

use massline_core::{Record, RecordKind};
use massline_tests::{Device, TestServer, Township, cli_binary, massline};

#[test]
fn a_rule_adopted_reaches_members_and_the_typed_rows() {
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
    let rule = [
        "regulation",
        "add",
        "--title",
        "村务公开制度",
        "--category",
        "village_affairs",
        "--adopted-on",
        "2024-06-10",
        "--text",
        "每月五日前公开上月村务和财务收支。",
    ];
    let id = massline(
        &store,
        &[&rule[..], &["--announced-on", "2024-06-12"]].concat(),
    );
    let id = id.trim();
    massline(&store, &["sync"]);

    let wang = rt.block_on(Device::enrol(&town, server.addr, "wang"));
    rt.block_on(wang.client.sync()).unwrap();
    let rows = wang.client.list(Some(RecordKind::Regulation)).unwrap();
    let [row] = rows.as_slice() else {
        panic!("the member has the rule: {rows:?}")
    };
    assert_eq!(row.id.to_hex(), id);
    let Some(Record::Regulation(r)) = &row.record else {
        panic!("{row:?}")
    };
    assert_eq!(r.title, "村务公开制度");

    town.wait_for_rows();
    let typed: (String, String, String, Option<String>) = town
        .server_db()
        .query_row(
            "SELECT category, adopted_on, month, announced_on FROM regulations
             WHERE lower(hex(doc_id)) = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("the rule's typed row");
    assert_eq!(
        typed,
        (
            "village_affairs".into(),
            "2024-06-10".into(),
            "2024-06".into(),
            Some("2024-06-12".into())
        )
    );

    let out = Command::new(cli_binary())
        .arg("--store")
        .arg(&store)
        .args(rule)
        .args(["--announced-on", "2024-06-01"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("announced_on"), "{err}");
}
