//! Two phones edit the same record with no link, then sync in turn: for each
//! case the campaign meets, both edits stand on every device and on the
//! server, and the server refuses neither.

use chrono::NaiveDate;
use massline_core::records::{Attendance, Note, RectificationStatus};
use massline_core::{DocId, PersonId, Record};
use massline_tests::{
    Device, TestServer, Township, opinion, record_of, rectification, session, study, visit,
};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

fn p(s: &str) -> PersonId {
    PersonId::new(s).unwrap()
}

/// Syncs `a`, then `b`, then `a` again, and checks nothing was refused.
async fn meet(a: &Device, b: &Device) {
    for d in [a, b, a] {
        let r = d.client.sync().await.unwrap();
        assert_eq!(r.refused, 0, "{r:?}");
    }
}

fn edit(d: &Device, id: &DocId, f: impl FnOnce(&mut Record)) {
    d.client
        .edit(id, |r| {
            f(r);
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendance_marked_on_two_phones_keeps_every_mark() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let id = zhang
        .client
        .create(session("学习三中全会精神"), None)
        .unwrap();
    meet(&zhang, &li).await;

    edit(&zhang, &id, |r| {
        if let Record::StudySession(s) = r {
            s.attendance.insert(p("wang"), Attendance::present());
            s.attendance.insert(p("zhang"), Attendance::present());
        }
    });
    edit(&li, &id, |r| {
        if let Record::StudySession(s) = r {
            s.attendance
                .insert(p("zhao"), Attendance::absent("外出务工"));
            s.attendance.insert(p("li"), Attendance::present());
        }
    });
    meet(&li, &zhang).await;

    for d in [&zhang, &li] {
        let s = record_of!(d, &id, StudySession);
        assert_eq!(s.attendance.len(), 4, "{:?}", s.attendance);
        assert!(s.attendance[&p("wang")].present);
        assert_eq!(s.attendance[&p("zhao")].reason, "外出务工");
    }
    assert_eq!(zhang.records(), li.records());
    assert_eq!(town.server_records(), zhang.records());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_deadline_changed_on_two_phones_both_stand() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let pb = zhang.problem("村务公开不及时");
    let id = zhang
        .client
        .create(rectification(pb, "每月公开一次村务"), None)
        .unwrap();
    meet(&zhang, &li).await;

    edit(&zhang, &id, |r| {
        if let Record::Rectification(x) = r {
            x.advance(RectificationStatus::InProgress, day(6, 1));
        }
    });
    edit(&li, &id, |r| {
        if let Record::Rectification(x) = r {
            x.deadline = day(11, 30);
        }
    });
    meet(&li, &zhang).await;

    for d in [&zhang, &li] {
        let r = record_of!(d, &id, Rectification);
        assert_eq!(r.status(), RectificationStatus::InProgress);
        assert_eq!(r.deadline, day(11, 30));
    }
    assert_eq!(town.server_records(), zhang.records());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_moving_a_measure_on_at_once_merge_to_the_furthest_step() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let pb = zhang.problem("道路坑洼");
    let id = zhang
        .client
        .create(rectification(pb, "修补村道"), None)
        .unwrap();
    meet(&zhang, &li).await;

    edit(&zhang, &id, |r| {
        if let Record::Rectification(x) = r {
            x.advance(RectificationStatus::Done, day(6, 20));
        }
    });
    // The other phone makes more edits, so a last-writer-wins status would be its.
    for i in 0..4 {
        edit(&li, &id, |r| {
            if let Record::Rectification(x) = r {
                x.advance(RectificationStatus::InProgress, day(6, 10));
                x.objective = format!("第{i}段完工");
            }
        });
    }
    meet(&zhang, &li).await;

    for d in [&zhang, &li] {
        let r = record_of!(d, &id, Rectification);
        assert_eq!(r.status(), RectificationStatus::Done);
        assert_eq!(r.reached(RectificationStatus::InProgress), Some(day(6, 10)));
    }
    assert_eq!(town.server_records(), li.records());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_edits_their_entry_while_a_cadre_comments_on_it() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let id = wang
        .client
        .create(study("wang", 40, "群众路线读本"), None)
        .unwrap();
    meet(&wang, &zhang).await;

    edit(&wang, &id, |r| {
        if let Record::StudyEntry(e) = r {
            e.reflection = "要多听群众意见".into();
            e.minutes = 60;
        }
    });
    let comment = Note {
        date: day(5, 2),
        text: "体会深刻，继续保持".into(),
        author: p("zhang"),
    };
    edit(&zhang, &id, |r| {
        if let Record::StudyEntry(e) = r {
            e.comments.push(comment.clone());
        }
    });
    meet(&zhang, &wang).await;

    for d in [&wang, &zhang] {
        let e = record_of!(d, &id, StudyEntry);
        assert_eq!(e.reflection, "要多听群众意见");
        assert_eq!(e.minutes, 60);
        assert_eq!(e.comments, vec![comment.clone()]);
    }
    assert_eq!(town.server_records(), zhang.records());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demands_added_on_two_phones_keep_their_ids_and_links() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let id = li
        .client
        .create(visit("李大爷", &["村道坑洼"]), None)
        .unwrap();
    meet(&li, &zhang).await;
    let first = record_of!(li, &id, Visit).demands[0].id.clone();

    // Offline: zhang writes down another demand; li makes an opinion of the first.
    edit(&zhang, &id, |r| {
        if let Record::Visit(v) = r {
            v.demands
                .push(massline_core::records::Demand::new("自来水不通"));
        }
    });
    let op = li
        .client
        .make_from_demand(&id, &first, opinion("村道坑洼，雨天难行"))
        .unwrap();
    meet(&li, &zhang).await;

    for d in [&zhang, &li] {
        let v = record_of!(d, &id, Visit);
        assert_eq!(v.demands.len(), 2);
        assert_eq!(v.demand(&first).unwrap().opinion, Some(op));
        let o = record_of!(d, &op, Opinion);
        assert_eq!(o.visit.unwrap().visit, id);
    }
    assert_eq!(town.server_records(), zhang.records());
    server.stop().await;
}
