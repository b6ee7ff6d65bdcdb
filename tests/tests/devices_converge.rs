//! Three to six devices in two villages make random records (study, opinions,
//! problems, rectification measures, visits and what their demands became,
//! notices, listening meetings and the opinions heard there, regulations,
//! comparison-inspection material, member files and mobile members' contact
//! logs), edit them (steps and progress notes, submissions for filing,
//! answers, comments, demands, a problem's status, a member's contact cadre)
//! and withdraw them, syncing in random orders, some cut off for a while;
//! once everyone has synced until nothing moves, every device holds exactly
//! the server's records and changes in the scopes its person may read,
//! nothing made on a device is lost, no note written is lost, the server
//! refused nothing a device had accepted, and the server's typed rows are
//! what rebuilding them from its documents gives.
//!
//! A property test: `PROPTEST_CASES` sets the number of cases (default 16).
//! A failing case, shrunk, is kept in `tests/proptest-regressions/` and run
//! again first on every later run.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use massline_core::records::{
    ComparisonMaterial, ContactMeans, Demand, FourWinds, HouseholdGroup, MobileContact, Note,
    OpinionStatus, ProblemStatus, Rectification, RectificationStatus, RectificationTerm,
    Submission, Visit, WindPoint,
};
use massline_core::{DocId, Error, PersonId, Record, RecordKind, Scope};
use massline_server::{admin, rows};
use massline_tests::{
    Device, TestServer, Township, listening_meeting, member_file, notice, opinion, problem,
    regulation, service, study,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

/// Who may have a device: (person, village). `li` and `chen` may have two.
const PEOPLE: [(&str, &str); 8] = [
    ("zhang", "dongcun"),
    ("li", "dongcun"),
    ("wang", "dongcun"),
    ("zhao", "dongcun"),
    ("chen", "xicun"),
    ("sun", "xicun"),
    ("li", "dongcun"),
    ("chen", "xicun"),
];

#[derive(Clone, Copy, Debug)]
enum Kind {
    Study,
    Opinion,
    Problem,
    Rectification,
    Visit,
    /// An opinion or a service request made of a visit's demand.
    FromDemand,
    Notice,
    /// A listening meeting, or an opinion heard at one on the device.
    Listening,
    Regulation,
    Comparison,
    MemberFile,
    /// A contact with a mobile member whose file is on the device.
    Contact,
}

/// One step of a case. Devices and records are picked by index, modulo how
/// many there are when the step runs.
#[derive(Clone, Debug)]
enum Op {
    Create(usize, Kind),
    Edit(usize, usize, u8),
    Withdraw(usize, usize),
    Sync(usize),
    /// Two devices sync at the same moment.
    SyncTogether(usize, usize),
    /// A device loses its link, or finds it again; while cut off it does
    /// not sync.
    Toggle(usize),
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Study),
        Just(Kind::Opinion),
        Just(Kind::Problem),
        Just(Kind::Rectification),
        Just(Kind::Visit),
        Just(Kind::FromDemand),
        Just(Kind::Notice),
        Just(Kind::Listening),
        Just(Kind::Regulation),
        Just(Kind::Comparison),
        Just(Kind::MemberFile),
        Just(Kind::Contact),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let d = 0..6usize;
    prop_oneof![
        4 => (d.clone(), kind()).prop_map(|(d, k)| Op::Create(d, k)),
        5 => (d.clone(), any::<usize>(), any::<u8>()).prop_map(|(d, r, h)| Op::Edit(d, r, h)),
        1 => (d.clone(), any::<usize>()).prop_map(|(d, r)| Op::Withdraw(d, r)),
        3 => d.clone().prop_map(Op::Sync),
        1 => (d.clone(), d.clone()).prop_map(|(a, b)| Op::SyncTogether(a, b)),
        1 => d.prop_map(Op::Toggle),
    ]
}

/// Devices (indices into [`PEOPLE`], both villages present) and the steps.
fn case() -> impl Strategy<Value = (Vec<usize>, Vec<Op>)> {
    let devices = proptest::sample::subsequence((0..PEOPLE.len()).collect::<Vec<_>>(), 3..=6)
        .prop_filter("devices in both villages", |d| {
            let villages: BTreeSet<_> = d.iter().map(|i| PEOPLE[*i].1).collect();
            villages.len() == 2
        });
    (devices, proptest::collection::vec(op(), 40..160))
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

/// An error the rules give for a step the person may not take (or the
/// record no longer allows); anything else is a failure.
fn refused_by_rules(e: Error) {
    assert!(
        matches!(e, Error::InvalidRecord(_) | Error::Forbidden(_)),
        "not a refusal by the rules: {e}"
    );
}

/// One device and what the case knows of it.
struct Phone {
    device: Device,
    person: PersonId,
    cadre: bool,
    /// A member of the device's village (for records that name one).
    member: PersonId,
    offline: bool,
}

/// What the devices made and wrote, to find on the server at the end.
#[derive(Default)]
struct Made {
    records: BTreeSet<DocId>,
    /// (record, text) of progress notes and comments.
    notes: BTreeSet<(DocId, String)>,
    refused_locally: usize,
    done: usize,
    serial: u64,
}

impl Made {
    fn tag(&mut self) -> String {
        self.serial += 1;
        format!("#{}", self.serial)
    }
}

fn create(p: &Phone, kind: Kind, made: &mut Made) {
    let me = p.person.clone();
    let tag = made.tag();
    let kind = if p.cadre { kind } else { Kind::Study };
    let record = match kind {
        Kind::Study => study(me.as_str(), 30, &format!("群众路线读本 {tag}")),
        Kind::Opinion => opinion(&format!("村务公开不及时 {tag}")),
        Kind::Problem => problem(&format!("道路失修 {tag}")),
        Kind::Rectification => {
            let problems = p.device.client.list(Some(RecordKind::Problem)).unwrap();
            match problems.first() {
                None => problem(&format!("低保评定不公开 {tag}")),
                Some(row) => Record::Rectification(Rectification {
                    problem: row.id,
                    measure: format!("公开评定 {tag}"),
                    objective: "每月公开".to_string(),
                    responsible: vec![me.clone()],
                    deadline: day(12, 31),
                    term: RectificationTerm::Short,
                    steps: [(RectificationStatus::Planned, day(5, 1))].into(),
                    progress: Vec::new(),
                    announced_on: None,
                    submitted: None,
                    filed: None,
                }),
            }
        }
        Kind::Visit => Record::Visit(Visit {
            cadre: me.clone(),
            household: format!("李大爷 {tag}"),
            group: HouseholdGroup::Poor,
            date: day(5, 3),
            notes: String::new(),
            demands: vec![Demand::new("村道坑洼")],
        }),
        Kind::Notice | Kind::FromDemand => notice(&format!("五月村务公开 {tag}")),
        Kind::Listening => match first_of(p, RecordKind::ListeningMeeting) {
            None => {
                let mut meeting = listening_meeting(&format!("听取意见 {tag}"));
                if let Record::ListeningMeeting(m) = &mut meeting {
                    m.members = vec![p.member.clone(), me.clone()];
                }
                meeting
            }
            Some(meeting) => {
                let mut heard = opinion(&format!("会上意见 {tag}"));
                if let Record::Opinion(o) = &mut heard {
                    o.meeting = Some(meeting);
                }
                heard
            }
        },
        Kind::Regulation => regulation(&format!("村务公开制度 {tag}")),
        Kind::Comparison => Record::ComparisonMaterial(ComparisonMaterial {
            author: me.clone(),
            date: day(7, 1),
            points: vec![WindPoint {
                wind: FourWinds::Bureaucratism,
                text: format!("深入群众不够 {tag}"),
            }],
            causes: "宗旨意识淡薄".to_string(),
            measures: "每周走访".to_string(),
        }),
        Kind::MemberFile => member_of_village(p, &tag),
        Kind::Contact => match first_of(p, RecordKind::Member) {
            None => member_of_village(p, &tag),
            Some(member) => Record::MobileContact(MobileContact {
                member,
                date: day(7, 2),
                cadre: me.clone(),
                how: ContactMeans::Phone,
                said: format!("寄去学习材料 {tag}"),
                materials_sent: true,
            }),
        },
    };
    let demand = match kind {
        Kind::FromDemand => demand_to_take_up(p),
        _ => None,
    };
    let created = match demand {
        Some((visit, demand)) => {
            let mut record = if made.serial.is_multiple_of(2) {
                opinion(&format!("村道坑洼 {tag}"))
            } else {
                service(&format!("李大爷 {tag}"))
            };
            if let Record::ServiceRequest(s) = &mut record {
                s.agent = me;
            }
            p.device.client.make_from_demand(&visit, &demand, record)
        }
        None => p.device.client.create(record, None),
    };
    match created {
        Ok(id) => {
            made.records.insert(id);
            made.done += 1;
        }
        Err(e) => {
            refused_by_rules(e);
            made.refused_locally += 1;
        }
    }
}

/// The file of a (mobile) member of the device's village.
fn member_of_village(p: &Phone, tag: &str) -> Record {
    let mut file = member_file(&format!("外出党员 {tag}"));
    if let Record::Member(m) = &mut file {
        m.person = Some(p.member.clone());
    }
    file
}

/// The first record of `kind` on the device, by id: devices that hold the
/// same records pick the same one.
fn first_of(p: &Phone, kind: RecordKind) -> Option<DocId> {
    p.device
        .client
        .list(Some(kind))
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .min()
}

/// The first demand on the device that became neither an opinion nor a
/// service request: (visit, demand). Devices that hold the same visits pick
/// the same demand.
fn demand_to_take_up(p: &Phone) -> Option<(DocId, String)> {
    let mut visits = p.device.client.list(Some(RecordKind::Visit)).unwrap();
    visits.sort_by_key(|r| r.id);
    visits.into_iter().find_map(|row| match row.record {
        Some(Record::Visit(v)) => v
            .demands
            .iter()
            .find(|d| d.opinion.is_none() && d.service_request.is_none())
            .map(|d| (row.id, d.id.clone())),
        _ => None,
    })
}

/// The record `pick` of those on the device, withdrawn ones too.
fn pick_record(p: &Phone, pick: usize) -> Option<DocId> {
    let mut ids: Vec<DocId> = p
        .device
        .client
        .list_all(None)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    (!ids.is_empty()).then(|| ids[pick % ids.len()])
}

fn edit(p: &Phone, pick: usize, how: u8, made: &mut Made) {
    let Some(id) = pick_record(p, pick) else {
        return;
    };
    let me = p.person.clone();
    let tag = made.tag();
    let mut note = None;
    let result = p.device.client.edit(&id, |r| {
        match r {
            Record::StudyEntry(s) => match how % 3 {
                0 => s.minutes = s.minutes % 700 + 1 + u32::from(how % 7),
                1 => s.reflection = format!("联系群众 {tag}"),
                _ => {
                    let text = format!("评语 {tag}");
                    s.comments.push(Note {
                        date: day(6, 1),
                        text: text.clone(),
                        author: me.clone(),
                    });
                    note = Some(text);
                }
            },
            Record::Opinion(o) => match how % 4 {
                // The words of the masses never change: refused by the rules.
                0 => o.text = format!("改写 {tag}"),
                1 => o.status = OpinionStatus::TakenUp,
                _ => {
                    o.status = OpinionStatus::Answered;
                    o.answer = Some(format!("已答复 {tag}"));
                }
            },
            Record::Problem(x) => match how % 4 {
                0 => x.title = format!("道路失修 {tag}"),
                1 => x.background = format!("背景 {tag}"),
                // Solved only once its measures are done: often refused.
                2 => {
                    let next = match x.status() {
                        ProblemStatus::Open => ProblemStatus::BeingRectified,
                        ProblemStatus::BeingRectified => ProblemStatus::Solved,
                        _ => ProblemStatus::Accepted,
                    };
                    x.steps.entry(next).or_insert(day(9, 1));
                }
                _ => x.solutions = format!("办法 {tag}"),
            },
            Record::Rectification(x) => match how % 3 {
                0 => {
                    let next = match x.status() {
                        RectificationStatus::Planned => Some((RectificationStatus::InProgress, 6)),
                        RectificationStatus::InProgress => Some((RectificationStatus::Done, 7)),
                        RectificationStatus::Done => Some((RectificationStatus::Accepted, 8)),
                        RectificationStatus::Accepted => None,
                    };
                    if let Some((step, month)) = next {
                        x.advance(step, day(month, 1));
                    }
                }
                1 => {
                    let text = format!("进展 {tag}");
                    x.progress.push(Note {
                        date: day(6, 2),
                        text: text.clone(),
                        author: me.clone(),
                    });
                    note = Some(text);
                }
                // The secretary submits a done measure, announcing it.
                2 if x.status() >= RectificationStatus::Done => {
                    x.announced_on.get_or_insert(day(8, 1));
                    x.submitted.get_or_insert(Submission {
                        date: day(8, 2),
                        by: me.clone(),
                    });
                }
                _ => x.deadline = day(10, 1 + u32::from(how % 28)),
            },
            Record::ListeningMeeting(m) => m.others = u32::from(how),
            Record::Regulation(x) => x.text = format!("条文 {tag}"),
            // Only its author writes it: others are refused by the rules.
            Record::ComparisonMaterial(x) => x.causes = format!("原因 {tag}"),
            Record::Member(x) => match how % 2 {
                0 => x.whereabouts = format!("浙江义乌 {tag}"),
                _ => x.contact_cadre = Some(me.clone()),
            },
            Record::MobileContact(x) => x.said = format!("电话联系 {tag}"),
            Record::Visit(v) => match how % 2 {
                0 => v.notes = format!("走访记录 {tag}"),
                _ => v.demands.push(Demand::new(format!("低保 {tag}"))),
            },
            Record::Notice(n) => n.content = format!("公开内容 {tag}"),
            _ => {}
        }
        Ok(())
    });
    match result {
        Ok(_) => {
            made.done += 1;
            if let Some(text) = note {
                made.notes.insert((id, text));
            }
        }
        Err(e) => {
            refused_by_rules(e);
            made.refused_locally += 1;
        }
    }
}

fn withdraw(p: &Phone, pick: usize, made: &mut Made) {
    let Some(id) = pick_record(p, pick) else {
        return;
    };
    match p.device.client.withdraw(&id, "录入有误") {
        Ok(()) => made.done += 1,
        Err(e) => {
            refused_by_rules(e);
            made.refused_locally += 1;
        }
    }
}

/// A record as compared: scope, record JSON and withdrawal JSON.
type Compared = (String, serde_json::Value, serde_json::Value);

/// The server's records and changes, each with its scope.
#[allow(clippy::type_complexity)]
fn on_server(town: &Township) -> (BTreeMap<DocId, Compared>, BTreeMap<String, (DocId, String)>) {
    let db = town.server_db();
    let mut stmt = db
        .prepare(
            "SELECT d.doc_id, s.name, d.record, d.withdrawn
             FROM documents d JOIN scopes s ON s.id = d.scope_id",
        )
        .unwrap();
    let docs = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .unwrap()
        .map(|r| {
            let (id, scope, record, withdrawn) = r.unwrap();
            let withdrawn = withdrawn.map_or(serde_json::Value::Null, |w| {
                serde_json::from_str(&w).unwrap()
            });
            (
                DocId::from_slice(&id).unwrap(),
                (scope, serde_json::from_str(&record).unwrap(), withdrawn),
            )
        })
        .collect();
    let mut stmt = db
        .prepare(
            "SELECT lower(hex(c.hash)), c.doc_id, s.name FROM changes c
             JOIN scopes s ON s.id = c.scope_id",
        )
        .unwrap();
    let changes = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
        .map(|r| {
            let (hash, doc, scope) = r.unwrap();
            (hash, (DocId::from_slice(&doc).unwrap(), scope))
        })
        .collect();
    (docs, changes)
}

/// The device's records (withdrawn too) and the hashes of its changes.
fn on_device(d: &Device) -> (BTreeMap<DocId, Compared>, BTreeSet<String>) {
    let records = d
        .client
        .list_all(None)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.id,
                (
                    r.scope.expect("every record has its scope").to_string(),
                    serde_json::to_value(r.record.expect("every record reads")).unwrap(),
                    serde_json::to_value(r.withdrawn).unwrap(),
                ),
            )
        })
        .collect();
    let db = d.store_db();
    let mut stmt = db.prepare("SELECT lower(hex(hash)) FROM changes").unwrap();
    let changes = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (records, changes)
}

async fn run_case(people: &[usize], ops: &[Op]) {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let mut phones = Vec::new();
    for i in people {
        let person = PEOPLE[*i].0;
        let device = Device::enrol(&town, server.addr, person).await;
        let who = device.client.identity().unwrap().unwrap().principal;
        phones.push(Phone {
            device,
            person: who.person.clone(),
            cadre: who.role != massline_core::Role::Member,
            member: PersonId::new(if PEOPLE[*i].1 == "dongcun" {
                "wang"
            } else {
                "sun"
            })
            .unwrap(),
            offline: false,
        });
    }
    let n = phones.len();
    let mut made = Made::default();
    let mut refused = 0;
    for op in ops {
        match *op {
            Op::Create(d, kind) => create(&phones[d % n], kind, &mut made),
            Op::Edit(d, pick, how) => edit(&phones[d % n], pick, how, &mut made),
            Op::Withdraw(d, pick) => withdraw(&phones[d % n], pick, &mut made),
            Op::Sync(d) => {
                let p = &phones[d % n];
                if !p.offline {
                    refused += p.device.client.sync().await.unwrap().refused;
                }
            }
            Op::SyncTogether(a, b) => {
                let (a, b) = (&phones[a % n], &phones[b % n]);
                if !a.offline && !b.offline {
                    let (x, y) = tokio::join!(a.device.client.sync(), b.device.client.sync());
                    refused += x.unwrap().refused + y.unwrap().refused;
                }
            }
            Op::Toggle(d) => phones[d % n].offline = !phones[d % n].offline,
        }
    }

    // Everyone back online syncs until nothing moves.
    let mut passes = 0;
    loop {
        let mut moved = false;
        for p in &phones {
            let r = p.device.client.sync().await.unwrap();
            refused += r.refused;
            moved |= r.pushed > 0 || r.pulled > 0;
        }
        if !moved {
            break;
        }
        passes += 1;
        assert!(passes <= 4, "still moving after {passes} rounds of syncs");
    }
    let mut refusals = Vec::new();
    for p in &phones {
        let status = p.device.client.status().unwrap();
        assert_eq!(status.unsent, 0, "{}: unsent changes", p.person);
        refusals.extend(
            status
                .refused
                .iter()
                .map(|r| format!("{}: {r:?}", p.person)),
        );
    }
    assert_eq!(
        (refused, refusals.len()),
        (0, 0),
        "the server refused changes the devices had accepted: {refusals:#?}"
    );

    let (records, changes) = on_server(&town);
    for id in &made.records {
        assert!(
            records.contains_key(id),
            "record {id} made on a device is lost"
        );
    }
    for (id, text) in &made.notes {
        let (_, record, _) = &records[id];
        assert!(
            record.to_string().contains(text.as_str()),
            "note {text} of record {id} is lost: {record}"
        );
    }
    for p in &phones {
        let who = p.device.client.identity().unwrap().unwrap().principal;
        let readable = |scope: &str| who.can_read(&Scope::parse(scope).unwrap());
        let (mine, my_changes) = on_device(&p.device);
        let expected: BTreeMap<DocId, Compared> = records
            .iter()
            .filter(|(_, (scope, _, _))| readable(scope))
            .map(|(id, c)| (*id, c.clone()))
            .collect();
        assert_eq!(
            mine, expected,
            "{}: records differ from the server's",
            p.person
        );
        let expected: BTreeSet<String> = changes
            .iter()
            .filter(|(_, (_, scope))| readable(scope))
            .map(|(hash, _)| hash.clone())
            .collect();
        assert_eq!(
            my_changes, expected,
            "{}: changes differ from the server's",
            p.person
        );
    }

    town.wait_for_rows();
    let db = admin::open(&town.data).unwrap();
    let (caught_up, rebuilt, again) = db
        .write(|tx| {
            let caught_up = rows::snapshot(tx)?;
            let rebuilt = rows::rebuild(tx)?;
            Ok::<_, massline_server::Error>((caught_up, rebuilt, rows::snapshot(tx)?))
        })
        .unwrap();
    assert!(rebuilt.unreadable.is_empty(), "{rebuilt:?}");
    assert_eq!(rebuilt.records as usize, records.len());
    assert_eq!(caught_up, again, "typed rows differ from those rebuilt");
    assert!(
        made.done > made.refused_locally,
        "most steps should be valid: {} done, {} refused",
        made.done,
        made.refused_locally
    );
    eprintln!(
        "{} devices, {} steps: {} done, {} refused by the rules, {} records",
        n,
        ops.len(),
        made.done,
        made.refused_locally,
        records.len()
    );
    server.stop().await;
}

#[test]
fn devices_converge_whatever_the_order_of_edits_and_syncs() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16);
    let config = Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/devices_converge.txt",
        ))),
        max_shrink_iters: 64,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    runner
        .run(&case(), |(people, ops)| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(run_case(&people, &ops));
            Ok(())
        })
        .unwrap();
}
