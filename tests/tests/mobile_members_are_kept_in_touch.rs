//! A mobile member's file names their contact cadre and pairing helper, and
//! the cadre logs each contact (`massline member add --contact-cadre
//! --helper-kind --helper`, `massline contact add`): both reach the
//! secretary's phone and the server's typed rows. A contact logged against
//! a member who is not mobile is refused on the phone, naming `member`.

use std::process::Command;

use massline_core::records::{ContactMeans, HelperKind};
use massline_tests::{Device, TestServer, Township, cli_binary, massline, record_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_with_mobile_members_reach_the_village() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let file = |person: &str, mobile: &[&str]| {
        let base = [
            "member",
            "add",
            "--person",
            person,
            "--name",
            "王党员",
            "--birth-year",
            "1975",
            "--joined-on",
            "2000-07-01",
            "--education",
            "junior_middle",
            "--contact-cadre",
            "li",
            "--helper-kind",
            "graduate_official",
            "--helper",
            "小刘",
        ];
        let out = massline(&li.path, &[&base[..], mobile].concat());
        li.client.resolve(out.trim()).unwrap()
    };
    let away = file("wang", &["--mobile", "--whereabouts", "广东东莞"]);
    let home = file("zhao", &[]);
    let out = massline(
        &li.path,
        &[
            "contact",
            "add",
            "--member",
            &away.to_hex(),
            "--how",
            "message",
            "--said",
            "询问务工情况，督促按时学习",
            "--materials-sent",
        ],
    );
    let contact = li.client.resolve(out.trim()).unwrap();

    let refused = Command::new(cli_binary())
        .arg("--store")
        .arg(&li.path)
        .args([
            "contact",
            "add",
            "--member",
            &home.to_hex(),
            "--said",
            "问候",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("member") && err.contains("not a mobile member"),
        "{err}"
    );

    li.client.sync().await.unwrap();
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    zhang.client.sync().await.unwrap();
    let m = record_of!(zhang, &away, Member);
    assert_eq!(m.contact_cadre.as_ref().map(|p| p.as_str()), Some("li"));
    assert_eq!(
        m.pairing.map(|h| (h.kind, h.name)),
        Some((HelperKind::GraduateOfficial, "小刘".into()))
    );
    let c = record_of!(zhang, &contact, MobileContact);
    assert_eq!(
        (c.member, c.how, c.materials_sent, c.cadre.as_str()),
        (away, ContactMeans::Message, true, "li")
    );

    town.wait_for_rows();
    let db = town.server_db();
    let row: (String, String) = db
        .query_row(
            "SELECT contact_cadre, pairing_helper_kind FROM members WHERE doc_id = ?1",
            [away.as_bytes().as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("li".into(), "graduate_official".into()));
    let row: (Vec<u8>, String, i64) = db
        .query_row(
            "SELECT member, how, materials_sent FROM mobile_contacts WHERE doc_id = ?1",
            [contact.as_bytes().as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row, (away.as_bytes().to_vec(), "message".into(), 1));
    server.stop().await;
}
