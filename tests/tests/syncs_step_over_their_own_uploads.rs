//! The server notes the numbers each push gave its device's changes as that
//! device's own run, and a pull of that device steps over them: it still
//! gets every change another device sent, numbered before, between or
//! after its own pushes.

use massline_tests::{Device, TestServer, Township, study};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_after_uploads_gets_what_others_sent_between_them() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let make = |d: &Device, member: &str, n: u32| {
        for i in 0..n {
            d.client
                .create(study(member, 10 + i % 50, "群众路线读本"), None)
                .unwrap();
        }
    };

    make(&zhang, "zhang", 300);
    assert_eq!(zhang.client.sync().await.unwrap().pushed, 300);
    make(&li, "li", 2);
    assert_eq!(li.client.sync().await.unwrap().pushed, 2);
    make(&zhang, "zhang", 40);
    zhang.client.sync().await.unwrap();
    make(&li, "li", 1);
    li.client.sync().await.unwrap();
    make(&zhang, "zhang", 3);
    zhang.client.sync().await.unwrap();
    // Whatever zhang's pulls met between its pushes, it now holds all.
    zhang.client.sync().await.unwrap();
    assert_eq!(zhang.records(), town.server_records());
    assert_eq!(zhang.records().len(), 346);

    let me = zhang.client.identity().unwrap().unwrap().device_id as i64;
    let db = town.server_db();
    let runs: Vec<(i64, i64)> = db
        .prepare("SELECT first_seq, last_seq FROM own_runs WHERE device_id = ?1 ORDER BY first_seq")
        .unwrap()
        .query_map([me], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // One run a push (li's changes came between them), each holding only
    // zhang's changes, together all of them.
    assert_eq!(runs.len(), 3, "{runs:?}");
    let count = |sql: &str, first: i64, last: i64| -> i64 {
        db.query_row(sql, [me, first, last], |r| r.get(0)).unwrap()
    };
    let mut covered = 0;
    for &(first, last) in &runs {
        let others = "SELECT count(*) FROM changes WHERE device_id != ?1 AND seq BETWEEN ?2 AND ?3";
        assert_eq!(count(others, first, last), 0, "run {first}..={last}");
        covered += last - first + 1;
    }
    let all = "SELECT count(*) FROM changes WHERE device_id = ?1 AND seq BETWEEN ?2 AND ?3";
    assert_eq!(covered, count(all, 0, i64::MAX));
    assert_eq!(covered, 343);
    server.stop().await;
}
