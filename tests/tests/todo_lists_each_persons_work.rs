//! Each person's to-do list, computed on their own phone from what it holds
//! after a sync: a village with a measure overdue and one due in three days,
//! one done but not announced, one announced but not submitted for filing,
//! one submitted and not acknowledged, a member with no study in 40 days,
//! a member who attended a session today, a service request open 20 days
//! and no practical things. Each case is listed once, for the right person
//! (the responsible cadre, the secretary, the township officer, the contact
//! cadre, the agent, the member), and `massline todo --json` lists the same.

use chrono::Duration;
use massline_core::records::{Attendance, RectificationStatus, Submission};
use massline_core::todo::TodoReason;
use massline_core::{DocId, Lang, PersonId, Record};
use massline_tests::{
    Device, TestServer, Township, massline, member_file, rectification, service, session, study,
};

fn person(p: &str) -> PersonId {
    PersonId::new(p).unwrap()
}

/// `device`'s list as (reason, record), sorted.
fn listed(device: &Device) -> Vec<(TodoReason, Option<DocId>)> {
    let today = chrono::Local::now().date_naive();
    let mut items: Vec<_> = device
        .client
        .todo(today, Lang::Zh)
        .unwrap()
        .into_iter()
        .map(|i| (i.reason, i.record))
        .collect();
    items.sort();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_case_is_listed_once_for_the_right_person() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let today = chrono::Local::now().date_naive();
    let li = Device::enrol(&town, server.addr, "li").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let liu = Device::enrol(&town, server.addr, "liu").await;

    // wang last studied 40 days ago; li is his contact cadre.
    let mut entry = study("wang", 45, "群众路线读本");
    if let Record::StudyEntry(e) = &mut entry {
        e.date = today - Duration::days(40);
    }
    wang.client.create(entry, None).unwrap();
    wang.client.sync().await.unwrap();
    let mut file = member_file("王党员");
    if let Record::Member(m) = &mut file {
        m.contact_cadre = Some(person("li"));
    }
    let wang_file = li.client.create(file, None).unwrap();
    // zhao attended a session today; zhang is his contact cadre.
    let mut file = member_file("赵党员");
    if let Record::Member(m) = &mut file {
        m.person = Some(person("zhao"));
        m.contact_cadre = Some(person("zhang"));
    }
    li.client.create(file, None).unwrap();
    let mut s = session("学习党章");
    if let Record::StudySession(s) = &mut s {
        s.date = today;
        s.attendance.insert(person("zhao"), Attendance::present());
    }
    li.client.create(s, None).unwrap();

    let pid = li.problem("村务公开不及时");
    let measure = |what: &str, responsible: &str, deadline, step: Option<RectificationStatus>| {
        let mut m = rectification(pid, what);
        if let Record::Rectification(r) = &mut m {
            r.responsible = vec![person(responsible)];
            r.deadline = deadline;
            if let Some(step) = step {
                r.advance(step, today);
            }
        }
        li.client.create(m, None).unwrap()
    };
    let later = today + Duration::days(60);
    let overdue = measure("公开低保名单", "li", today - Duration::days(5), None);
    let due_soon = measure("修订村规民约", "zhang", today + Duration::days(3), None);
    let unannounced = measure("每月公开财务", "li", later, Some(RectificationStatus::Done));
    let unfiled = measure("建立来访登记", "li", later, Some(RectificationStatus::Done));
    let unacknowledged = measure(
        "设立群众工作室",
        "li",
        later,
        Some(RectificationStatus::Done),
    );
    for id in [unfiled, unacknowledged] {
        li.client
            .edit(&id, |r| {
                if let Record::Rectification(m) = r {
                    m.announced_on = Some(today);
                }
                Ok(())
            })
            .unwrap();
    }
    let mut request = service("赵大娘");
    if let Record::ServiceRequest(s) = &mut request {
        s.applied_on = today - Duration::days(20);
    }
    let open = li.client.create(request, None).unwrap();
    li.client.sync().await.unwrap();

    zhang.client.sync().await.unwrap();
    zhang
        .client
        .edit(&unacknowledged, |r| {
            if let Record::Rectification(m) = r {
                m.submitted = Some(Submission {
                    date: today,
                    by: person("zhang"),
                });
            }
            Ok(())
        })
        .unwrap();
    zhang.client.sync().await.unwrap();
    for d in [&li, &wang, &liu] {
        d.client.sync().await.unwrap();
    }

    let mut want_li = vec![
        (TodoReason::MeasureOverdue, Some(overdue)),
        (TodoReason::NotAnnounced, Some(unannounced)),
        (TodoReason::NotStudying, Some(wang_file)),
        (TodoReason::ServiceOpen, Some(open)),
    ];
    want_li.sort();
    assert_eq!(listed(&li), want_li);
    let mut want_zhang = vec![
        (TodoReason::MeasureDueSoon, Some(due_soon)),
        (TodoReason::NotSubmitted, Some(unfiled)),
        (TodoReason::PracticalThings, None),
    ];
    want_zhang.sort();
    assert_eq!(listed(&zhang), want_zhang);
    assert_eq!(
        listed(&liu),
        [(TodoReason::NotAcknowledged, Some(unacknowledged))]
    );
    assert_eq!(listed(&wang), [(TodoReason::OwnStudy, None)]);

    // The command line lists the same items, with the same ids and why.
    let items = li.client.todo(today, Lang::Zh).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&massline(&li.path, &["todo", "--json"])).unwrap();
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>());
    let overdue_item = items
        .iter()
        .find(|i| i.reason == TodoReason::MeasureOverdue)
        .unwrap();
    assert!(
        overdue_item.why.contains("公开低保名单"),
        "{}",
        overdue_item.why
    );
    // Listed again tomorrow with the same id: an app notifies once.
    let tomorrow = li.client.todo(today + Duration::days(1), Lang::En).unwrap();
    assert!(tomorrow.iter().any(|i| i.id == overdue_item.id));
    server.stop().await;
}
