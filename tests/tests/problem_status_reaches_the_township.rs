//! A problem's "four winds" label and status, given on the field client's
//! command line, travel as the record's fields: the client shows them, the
//! server keeps them in its typed row for the dashboard to count, and a
//! problem accepted by the masses before it is solved is refused on the
//! device, naming the field.

use std::process::Command;

use massline_tests::{TestServer, Township, cli_binary, massline};

#[test]
fn a_problems_label_and_status_reach_the_typed_rows() {
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
    let problem = [
        "problem",
        "add",
        "--title",
        "村务公开走过场",
        "--how-found",
        "raised_by_masses",
        "--area",
        "mass_service",
    ];
    let id = massline(
        &store,
        &[
            &problem[..],
            &[
                "--four-winds",
                "formalism",
                "--status",
                "being_rectified",
                "--status-on",
                "2024-05-20",
            ],
        ]
        .concat(),
    );
    let id = id.trim();
    let shown: serde_json::Value =
        serde_json::from_str(&massline(&store, &["show", id, "--json"])).expect("JSON");
    assert_eq!(shown["record"]["four_winds"], "formalism", "{shown}");
    assert_eq!(
        shown["record"]["steps"]["being_rectified"], "2024-05-20",
        "{shown}"
    );

    // Solved once its one measure is done (`problems_are_solved_by_their_measures.rs`).
    massline(
        &store,
        &[
            "rectification",
            "add",
            "--problem",
            id,
            "--measure",
            "每月五日前公开",
            "--responsible",
            "li",
            "--deadline",
            "2024-12-31",
            "--term",
            "short",
            "--status",
            "done",
            "--status-on",
            "2024-05-30",
        ],
    );
    massline(
        &store,
        &[
            "problem",
            "update",
            id,
            "--status",
            "solved",
            "--status-on",
            "2024-06-01",
        ],
    );
    massline(&store, &["sync"]);
    town.wait_for_rows();
    let row: (String, String, Option<String>, Option<String>) = town
        .server_db()
        .query_row(
            "SELECT four_winds, status, solved_on, accepted_on FROM problems
             WHERE lower(hex(doc_id)) = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("the problem's typed row");
    assert_eq!(
        row,
        (
            "formalism".into(),
            "solved".into(),
            Some("2024-06-01".into()),
            None
        )
    );

    // Accepted by the masses before it is solved: refused, naming the step.
    let out = Command::new(cli_binary())
        .arg("--store")
        .arg(&store)
        .args(problem)
        .args(["--status", "accepted", "--status-on", "2024-06-01"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("steps.accepted"), "{err}");
}
