//! The township office sets the campaign plan on the command line
//! (`massline plan add`); a village cadre records the day 西村 entered a
//! phase (`massline phase add`); after a sync, `massline status` on the
//! township's store shows each village's phase and the phases it is behind
//! the plan in, and 东村's secretary has "village behind the campaign plan"
//! on their to-do list until the village enters the phase.

use massline_core::Lang;
use massline_core::records::CampaignPhase;
use massline_core::todo::TodoReason;
use massline_tests::{Device, TestServer, Township, massline, phase_entry};
use serde_json::{Value, json};

#[test]
fn each_village_shows_its_phase_and_whether_it_is_behind_the_plan() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let town = Township::new();
    let server = rt.block_on(TestServer::start(&town));
    let dir = tempfile::tempdir().unwrap();
    let (liu, chen) = (dir.path().join("liu.db"), dir.path().join("chen.db"));
    massline(&liu, &["enroll", &town.code("liu", server.addr)]);
    massline(&chen, &["enroll", &town.code("chen", server.addr)]);

    // The plan of 2024: every planned start has passed.
    let plan = massline(
        &liu,
        &[
            "plan",
            "add",
            "--title",
            "红星镇群众路线教育实践活动实施方案",
            "--learning-start",
            "2024-06-01",
            "--learning-end",
            "2024-07-15",
            "--criticism-start",
            "2024-07-16",
            "--criticism-end",
            "2024-08-31",
            "--rectification-start",
            "2024-09-01",
            "--rectification-end",
            "2024-11-30",
        ],
    );
    let plan = plan.trim().to_string();
    massline(&liu, &["sync"]);
    massline(&chen, &["sync"]);
    massline(
        &chen,
        &[
            "phase",
            "add",
            "--phase",
            "rectification",
            "--entered-on",
            "2024-09-02",
        ],
    );
    massline(&chen, &["sync"]);

    let zhang = rt.block_on(Device::enrol(&town, server.addr, "zhang"));
    rt.block_on(zhang.client.sync()).unwrap();
    let today = chrono::Local::now().date_naive();
    let behind = |d: &Device| {
        d.client
            .todo(today, Lang::Zh)
            .unwrap()
            .into_iter()
            .filter(|i| i.reason == TodoReason::BehindPlan)
            .collect::<Vec<_>>()
    };
    let items = behind(&zhang);
    let [item] = items.as_slice() else {
        panic!("东村 is behind: {items:?}")
    };
    assert_eq!(item.record.map(|r| r.to_hex()), Some(plan.clone()));
    assert!(item.why.contains("学习教育"), "{}", item.why);

    massline(&liu, &["sync"]);
    let status: Value = serde_json::from_str(&massline(&liu, &["status", "--json"])).unwrap();
    assert_eq!(
        status["campaign"],
        json!([
            {"village": "dongcun", "phase": null,
             "behind": ["learning", "criticism", "rectification"]},
            {"village": "xicun", "phase": "rectification", "behind": []},
        ]),
        "{status}"
    );
    let text = massline(&liu, &["status"]);
    assert!(text.contains("xicun\tRectification and rules\n"), "{text}");
    assert!(text.contains("dongcun\t-\tbehind plan: Learning"), "{text}");

    // Once 东村 enters the last phase, it is behind in nothing.
    zhang
        .client
        .create(phase_entry(CampaignPhase::Rectification, today), None)
        .unwrap();
    assert!(behind(&zhang).is_empty());
    rt.block_on(zhang.client.sync()).unwrap();
    massline(&liu, &["sync"]);
    let status: Value = serde_json::from_str(&massline(&liu, &["status", "--json"])).unwrap();
    assert_eq!(status["campaign"][0]["behind"], json!([]), "{status}");
    assert_eq!(status["campaign"][0]["phase"], json!("rectification"));
    rt.block_on(server.stop());
}
