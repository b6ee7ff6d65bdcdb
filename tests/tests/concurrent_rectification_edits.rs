//! Two cadres edit the same rectification measure with no link (one changes
//! status and deadline, the other adds a progress note); whichever syncs
//! first, both edits survive on every device and on the server.

use chrono::NaiveDate;
use massline_core::records::{ProgressNote, RectificationStatus};
use massline_core::{DocId, PersonId, Record};
use massline_tests::{Device, TestServer, Township, rectification};

async fn offline_edits(order_li_first: bool) {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let id: DocId = zhang
        .client
        .create(
            rectification(zhang.problem("低保评定不公开"), "公开低保评定"),
            None,
        )
        .unwrap();
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();

    let deadline = NaiveDate::from_ymd_opt(2024, 10, 1).unwrap();
    zhang
        .client
        .edit(&id, |r| {
            if let Record::Rectification(x) = r {
                x.advance(
                    RectificationStatus::InProgress,
                    NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
                );
                x.deadline = deadline;
            }
            Ok(())
        })
        .unwrap();
    let note = ProgressNote {
        date: NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        text: "已在公示栏张贴".into(),
        author: PersonId::new("li").unwrap(),
    };
    li.client
        .edit(&id, |r| {
            if let Record::Rectification(x) = r {
                x.progress.push(note.clone());
            }
            Ok(())
        })
        .unwrap();

    let (first, second) = if order_li_first {
        (&li, &zhang)
    } else {
        (&zhang, &li)
    };
    first.client.sync().await.unwrap();
    second.client.sync().await.unwrap();
    first.client.sync().await.unwrap();

    for device in [&zhang, &li] {
        let Some(Record::Rectification(r)) = device.client.get(&id).unwrap().record else {
            panic!("not a rectification")
        };
        assert_eq!(r.status(), RectificationStatus::InProgress);
        assert_eq!(r.deadline, deadline);
        assert_eq!(r.progress, vec![note.clone()]);
    }
    assert_eq!(zhang.records(), li.records());
    assert_eq!(town.server_records(), zhang.records());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_edits_survive_when_the_status_change_syncs_first() {
    offline_edits(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_edits_survive_when_the_progress_note_syncs_first() {
    offline_edits(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_notes_added_offline_on_two_phones_both_survive() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let id = zhang
        .client
        .create(rectification(zhang.problem("村道坑洼"), "修路"), None)
        .unwrap();
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    for (device, who, text) in [(&zhang, "zhang", "召开党员大会"), (&li, "li", "走访农户")]
    {
        device
            .client
            .edit(&id, |r| {
                if let Record::Rectification(x) = r {
                    x.progress.push(ProgressNote {
                        date: NaiveDate::from_ymd_opt(2024, 6, 2).unwrap(),
                        text: text.into(),
                        author: PersonId::new(who).unwrap(),
                    });
                }
                Ok(())
            })
            .unwrap();
    }
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();
    let Some(Record::Rectification(r)) = zhang.client.get(&id).unwrap().record else {
        panic!("not a rectification")
    };
    let mut texts: Vec<&str> = r.progress.iter().map(|n| n.text.as_str()).collect();
    texts.sort_unstable();
    assert_eq!(texts, ["召开党员大会", "走访农户"]);
    assert_eq!(zhang.records(), li.records());
    server.stop().await;
}
