//! The server keeps a typed row for every record, written with each accepted
//! change, that the dashboard can count with SQL: attending a study session
//! counts as study for each attendee, withdrawn records are marked,
//! rebuilding every row from the stored documents gives the same rows, and
//! so does catching up a few records to a transaction.

use chrono::NaiveDate;
use massline_core::records::{
    Attendance, CampaignPhase, PhaseEntry, RectificationStatus, ServiceChecklist, ServiceMatter,
};
use massline_core::{PersonId, Record, RecordKind};
use massline_server::{admin, registry, rows};
use massline_tests::{
    Device, TestServer, Township, campaign_plan, listening_meeting, meeting, member_file, notice,
    opinion, practical, record_of, rectification, regulation, service, session, study, visit,
};

fn p(s: &str) -> PersonId {
    PersonId::new(s).unwrap()
}

/// A village's year in brief, on three phones, synced.
async fn a_village_at_work(town: &Township, server: &TestServer) -> Vec<Device> {
    let zhang = Device::enrol(town, server.addr, "zhang").await;
    let li = Device::enrol(town, server.addr, "li").await;
    let wang = Device::enrol(town, server.addr, "wang").await;

    let mut s = session("学习十八届三中全会精神");
    if let Record::StudySession(x) = &mut s {
        x.attendance.insert(p("wang"), Attendance::present());
        x.attendance.insert(p("zhang"), Attendance::present());
        x.attendance
            .insert(p("zhao"), Attendance::absent("外出务工"));
    }
    zhang.client.create(s, None).unwrap();
    wang.client
        .create(study("wang", 45, "群众路线读本"), None)
        .unwrap();
    let gone = wang
        .client
        .create(study("wang", 30, "记重了"), None)
        .unwrap();
    wang.client.withdraw(&gone, "重复录入").unwrap();

    let v = li
        .client
        .create(visit("李大爷", &["村道坑洼", "低保"]), None)
        .unwrap();
    let demands = record_of!(li, &v, Visit).demands;
    let op = li
        .client
        .make_from_demand(&v, &demands[0].id, opinion("村道坑洼，雨天难行"))
        .unwrap();
    li.client
        .make_from_demand(&v, &demands[1].id, service("李大爷"))
        .unwrap();
    li.client.create(opinion("村务公开不及时"), None).unwrap();
    let mut problem = massline_tests::problem("道路失修");
    if let Record::Problem(x) = &mut problem {
        x.opinions.push(op);
    }
    let pb = li.client.create(problem, None).unwrap();
    let rc = li
        .client
        .create(rectification(pb, "修补村道"), None)
        .unwrap();
    li.client
        .edit(&rc, |r| {
            if let Record::Rectification(x) = r {
                x.advance(
                    RectificationStatus::InProgress,
                    NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
                );
            }
            Ok(())
        })
        .unwrap();
    zhang.client.create(practical("硬化村道"), None).unwrap();
    zhang
        .client
        .create(meeting("对照“四风”查摆问题"), None)
        .unwrap();
    zhang.client.create(notice("五月村务公开"), None).unwrap();
    let away = zhang.client.create(member_file("王党员"), None).unwrap();
    let contact = serde_json::json!({
        "member": away.to_hex(), "date": "2024-06-03", "cadre": "zhang", "how": "phone",
        "said": "督促按时学习", "materials_sent": true,
    });
    zhang
        .client
        .create(
            Record::from_fields(RecordKind::MobileContact, contact).unwrap(),
            None,
        )
        .unwrap();
    let material = serde_json::json!({
        "author": "zhang", "date": "2024-06-05",
        "points": [{"wind": "formalism", "text": "开会多、落实少"}],
    });
    zhang
        .client
        .create(
            Record::from_fields(RecordKind::ComparisonMaterial, material).unwrap(),
            None,
        )
        .unwrap();
    let heard_at = zhang
        .client
        .create(listening_meeting("村务公开、道路修建"), None)
        .unwrap();
    let mut heard = opinion("村道年久失修");
    if let Record::Opinion(o) = &mut heard {
        o.meeting = Some(heard_at);
    }
    zhang.client.create(heard, None).unwrap();
    zhang
        .client
        .create(regulation("村务公开制度"), None)
        .unwrap();
    zhang
        .client
        .create(
            Record::PhaseEntry(PhaseEntry {
                phase: CampaignPhase::Learning,
                entered_on: chrono::NaiveDate::from_ymd_opt(2024, 4, 1).unwrap(),
                note: String::new(),
            }),
            None,
        )
        .unwrap();
    let liu = Device::enrol(town, server.addr, "liu").await;
    liu.client.create(campaign_plan("实施方案"), None).unwrap();
    liu.client
        .create(
            Record::ServiceChecklist(ServiceChecklist {
                matter: ServiceMatter::SubsistenceAllowance,
                issued_on: chrono::NaiveDate::from_ymd_opt(2024, 4, 1).unwrap(),
                items: vec!["户口本".into()],
            }),
            None,
        )
        .unwrap();
    assert_eq!(liu.client.sync().await.unwrap().refused, 0);
    for d in [&zhang, &li, &wang, &zhang] {
        assert_eq!(d.client.sync().await.unwrap().refused, 0);
    }
    vec![zhang, li, wang]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_follow_each_change_and_count_session_attendance_as_study() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let _devices = a_village_at_work(&town, &server).await;
    town.wait_for_rows();
    let db = town.server_db();
    let q = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };

    // wang: own entry (45) + session (90); the withdrawn entry counts for nothing.
    assert_eq!(
        q("SELECT sum(minutes) FROM study_credits
           WHERE person = 'wang' AND withdrawn = 0 AND month = '2024-05'"),
        135
    );
    assert_eq!(
        q("SELECT count(*) FROM study_credits WHERE person = 'zhao'"),
        0
    );
    assert_eq!(
        q("SELECT count(*) FROM attendance WHERE present = 0 AND reason = '外出务工'"),
        1
    );
    assert_eq!(
        q("SELECT count(*) FROM study_entries WHERE withdrawn = 1"),
        1
    );
    assert_eq!(
        q(
            "SELECT count(*) FROM opinions WHERE channel = 'household_visit' AND from_visit IS NOT NULL"
        ),
        1
    );
    assert_eq!(q("SELECT to_opinion + to_service FROM visits"), 2);
    assert_eq!(
        q(
            "SELECT count(*) FROM service_requests WHERE status = 'accepted' AND from_visit IS NOT NULL"
        ),
        1
    );
    assert_eq!(
        q("SELECT count(*) FROM rectifications
           WHERE status = 'in_progress' AND started_on = '2024-06-01' AND filed_on IS NULL"),
        1
    );
    assert_eq!(q("SELECT count(*) FROM problem_opinions"), 1);
    assert_eq!(q("SELECT count(*) FROM members WHERE mobile = 1"), 1);
    assert_eq!(
        q(
            "SELECT count(*) FROM opinions JOIN listening_meetings ON meeting = listening_meetings.doc_id"
        ),
        1
    );
    for table in rows::tables() {
        if table != "appraisals" {
            let n = q(&format!("SELECT count(*) FROM {table}"));
            assert!(n > 0, "{table} has no rows");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilding_every_row_from_the_documents_gives_the_same_rows() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let _devices = a_village_at_work(&town, &server).await;
    let db = admin::open(&town.data).unwrap();
    let (before, rebuilt, after) = db
        .write(|tx| {
            rows::catch_up(tx)?;
            let before = rows::snapshot(tx)?;
            let rebuilt = rows::rebuild(tx)?;
            Ok::<_, massline_server::Error>((before, rebuilt, rows::snapshot(tx)?))
        })
        .unwrap();
    assert!(rebuilt.unreadable.is_empty(), "{rebuilt:?}");
    assert_eq!(
        rebuilt.records, 21,
        "every record of the village and the township's plan and checklist"
    );
    let total: usize = before.values().map(Vec::len).sum();
    assert!(total > 20, "{before:?}");
    assert_eq!(before, after);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_caught_up_a_few_records_at_a_time_are_those_caught_up_at_once() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let _devices = a_village_at_work(&town, &server).await;
    server.stop().await;
    let db = admin::open(&town.data).unwrap();
    let (before, records, steps, after) = db
        .write(|tx| {
            rows::catch_up(tx)?;
            let before = rows::snapshot(tx)?;
            let records: i64 = tx.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))?;
            for table in rows::tables() {
                tx.execute(&format!("DELETE FROM {table}"), [])?;
            }
            registry::set_setting(tx, rows::THROUGH, "0")?;
            let mut steps = Vec::new();
            loop {
                let step = rows::catch_up_some(tx, 4)?;
                steps.push(step);
                if !step.more {
                    break;
                }
            }
            Ok::<_, massline_server::Error>((before, records, steps, rows::snapshot(tx)?))
        })
        .unwrap();
    assert_eq!(before, after, "rows caught up in steps of 4 records");
    assert!(records > 8, "{records} records");
    let (last, earlier) = steps.split_last().unwrap();
    assert!(
        earlier.iter().all(|s| s.more && s.done == 4) && !last.more,
        "{steps:?}"
    );
    assert_eq!(steps.iter().map(|s| s.done).sum::<u64>(), records as u64);
}
