//! A believable township to look at: `massline-server demo --data DIR` (or
//! `serve --demo`) fills an empty data directory with villages, their
//! people and a campaign's months of records.
//!
//! Every record is made as a device makes it (an Automerge change by an
//! enrolled device's actor, naming its person) and taken in through the
//! server's own intake ([`crate::ingest`]), so it passes every check a
//! phone's change passes: members log their own study, cadres keep their
//! village's lists, the township officer acknowledges filings. A change the
//! intake refuses stops the demo with the reason.
//!
//! The records follow a seeded generator: the same seed gives the same
//! township, dated back from the day it is made.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use automerge::{ActorId, Automerge};
use chrono::{Datelike, Months, NaiveDate};
use massline_model::packing::Entry;
use massline_model::record_doc::{self, Author};
use massline_model::records::{
    AppraisalGrade, Attendance, CampaignPhase, CampaignPlan, Education, Filing, FourWinds, Helper,
    HelperKind, HowFound, MeetingPoint, Member, Notice, NoticeCategory, NoticeMedium, Opinion,
    OpinionArea, OpinionChannel, OpinionStatus, OrgLifeMeeting, PhaseEntry, PointKind,
    PracticalThing, Problem, ProblemArea, Rectification, RectificationStatus, RectificationTerm,
    Satisfaction, ServiceChecklist, ServiceMatter, ServiceRequest, ServiceStatus, SessionFormat,
    SourceGroup, StudyEntry, StudyMaterial, StudyMode, StudySession, Submission, ThingStatus,
};
use massline_model::{Coded, DocId, PersonId, Record, Role, Scope, VillageCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::Db;
use crate::error::Error;
use crate::registry::{self, Device};
use crate::{ingest, rows};

/// The demo township's villages: code and name.
pub const VILLAGES: &[(&str, &str)] = &[
    ("hongqi", "红旗村"),
    ("liushu", "柳树村"),
    ("shiqiao", "石桥村"),
    ("nanwan", "南湾村"),
    ("xinghua", "杏花村"),
    ("qingshan", "青山村"),
];

/// The demo's township officer, who logs in to see every village.
pub const OFFICER: &str = "zhen-liu";

/// Months of campaign the demo records: this one and the ones before it.
pub const CAMPAIGN_MONTHS: u32 = 4;

/// Most changes taken in per push message (as a phone packs them).
const CHANGES_PER_MESSAGE: usize = 200;

/// The one-time checklists the demo township issues: matter and items.
const CHECKLISTS: &[(ServiceMatter, &[&str])] = &[
    (
        ServiceMatter::SubsistenceAllowance,
        &["户口本", "身份证", "家庭收入证明", "低保申请书"],
    ),
    (
        ServiceMatter::MedicalAssistance,
        &["身份证", "医疗费用发票", "出院小结", "银行卡复印件"],
    ),
];

/// The seed of the township `serve --demo` makes.
pub const DEFAULT_SEED: u64 = 2013;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗",
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "桂兰", "志强", "文华", "海燕", "春生", "玉梅", "德明", "国强", "晓东", "丽娟",
    "永福", "金花", "振华", "红梅", "学军", "凤英", "长青", "秋菊", "少峰", "淑珍", "宏伟", "玉兰",
];
const TOPICS: &[&str] = &[
    "学习党的群众路线教育实践活动重要讲话",
    "学习强农惠农政策",
    "学习《论群众路线》重要论述摘编",
    "学习党章，对照检查",
    "学习焦裕禄精神",
    "学习县委群众路线工作会议精神",
];
const REFLECTIONS: &[&str] = &[
    "要多为群众办实事",
    "联系群众要经常，不能走过场",
    "对照检查，自己走访群众少了",
    "深受教育，要带头致富帮富",
    "",
];
const OPINIONS: &[&str] = &[
    "村务公开不及时，群众看不到账目",
    "村道路灯坏了很久没人修",
    "低保评定不透明",
    "希望多组织农技培训",
    "个别村干部办事拖拉",
    "红白喜事大操大办，负担重",
    "垃圾清运不及时",
    "合作医疗报销手续繁琐",
    "饮水工程进度慢",
    "希望村里建文化广场",
];
const PROBLEMS: &[(&str, &str)] = &[
    ("村务公开不规范", "每月15日在公开栏公开村务、财务"),
    ("联系服务群众不经常", "建立村干部轮流值班和走访制度"),
    ("村级财务管理不严格", "规范报销审批，实行村账乡代理"),
    ("农田水利设施老化", "修缮灌溉渠道，汛期前完成"),
    ("党员教育管理松散", "每月开展一次党员主题活动"),
    ("办事程序繁琐", "推行一站式代办服务"),
];
const PRACTICAL: &[&str] = &[
    "硬化村组道路1.2公里",
    "安装路灯40盏",
    "修缮村卫生室",
    "疏浚灌溉渠道",
    "建设村文化广场",
    "改造饮水管网",
];
const NOTICES: &[&str] = &[
    "财务收支情况公开",
    "低保评定结果公示",
    "整改措施公示",
    "发展党员情况公示",
    "村级项目招标结果公开",
];
const ABSENT: &[&str] = &["外出务工", "生病", "农忙"];

/// What the demo made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Made {
    /// Villages.
    pub villages: usize,
    /// People (with a device each).
    pub people: usize,
    /// Records.
    pub records: usize,
    /// Changes taken in.
    pub changes: usize,
}

/// A person of the demo with an enrolled device.
struct Actor {
    device: Device,
    actor: ActorId,
    person: PersonId,
}

/// The demo being made: its people, their documents, the random source.
struct Maker<'a> {
    db: &'a Db,
    rng: StdRng,
    today: NaiveDate,
    start: NaiveDate,
    actors: BTreeMap<PersonId, Actor>,
    docs: BTreeMap<DocId, (Automerge, Record)>,
    /// Changes made, in the order they were made, waiting to be pushed.
    outbox: Vec<(PersonId, Entry)>,
    serial: u64,
    made: Made,
}

fn person_id(s: &str) -> Result<PersonId, Error> {
    PersonId::new(s).map_err(Error::Invalid)
}

fn pick<'b, T>(rng: &mut StdRng, items: &'b [T]) -> &'b T {
    &items[rng.random_range(0..items.len())]
}

fn pick_code<T: Coded>(rng: &mut StdRng) -> T {
    *pick(rng, T::all())
}

impl Maker<'_> {
    /// A day of the campaign from `from` on, up to today.
    fn day_from(&mut self, from: NaiveDate) -> NaiveDate {
        let days = (self.today - from).num_days().max(0);
        from + chrono::Duration::days(self.rng.random_range(0..=days))
    }

    fn day(&mut self) -> NaiveDate {
        self.day_from(self.start)
    }

    /// Unix seconds of noon on `day`.
    fn time_of(day: NaiveDate) -> i64 {
        day.and_hms_opt(12, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp())
    }

    /// Adds a person and enrols a device for them.
    fn person(
        &mut self,
        id: &str,
        name: &str,
        role: Role,
        village: Option<&VillageCode>,
    ) -> Result<PersonId, Error> {
        let id = person_id(id)?;
        let actor = ActorId::from(self.rng.random::<[u8; 16]>());
        let device = self.db.write(|tx| {
            registry::add_person(tx, Some(id.clone()), name, role, village)?;
            let code = registry::new_enrollment_code(tx, &id, Duration::from_secs(60))?;
            registry::enroll(tx, &code, actor.to_bytes(), "demo", None)
                .map(|(device, _token)| device)
                .map_err(|e| Error::Invalid(e.to_string()))
        })?;
        self.actors.insert(
            id.clone(),
            Actor {
                device,
                actor,
                person: id.clone(),
            },
        );
        self.made.people += 1;
        Ok(id)
    }

    /// `by` makes a new record of `village` on `day`.
    fn create(
        &mut self,
        by: &PersonId,
        village: &VillageCode,
        day: NaiveDate,
        record: Record,
    ) -> Result<DocId, Error> {
        let scope = record.home_scope(village);
        self.create_in(by, scope, day, record)
    }

    /// `by` makes a new record in `scope` on `day`.
    fn create_in(
        &mut self,
        by: &PersonId,
        scope: Scope,
        day: NaiveDate,
        record: Record,
    ) -> Result<DocId, Error> {
        self.serial += 1;
        let a = self
            .actors
            .get(by)
            .ok_or_else(|| Error::Invalid(format!("no demo device for {by}")))?;
        let author = Author {
            actor: &a.actor,
            person: &a.person,
            time: Self::time_of(day),
        };
        let (id, doc, change) = record_doc::create(&author, &scope, self.serial, &record)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        self.outbox.push((
            by.clone(),
            Entry::Change {
                hash: change.hash,
                bytes: change.bytes,
            },
        ));
        self.docs.insert(id, (doc, record));
        self.made.records += 1;
        Ok(id)
    }

    /// `by` edits a record on `day`.
    fn edit(
        &mut self,
        by: &PersonId,
        id: &DocId,
        day: NaiveDate,
        f: impl FnOnce(&mut Record),
    ) -> Result<(), Error> {
        let a = self
            .actors
            .get(by)
            .ok_or_else(|| Error::Invalid(format!("no demo device for {by}")))?;
        let (doc, base) = self
            .docs
            .get_mut(id)
            .ok_or_else(|| Error::Invalid(format!("no demo record {id}")))?;
        let mut new = base.clone();
        f(&mut new);
        let author = Author {
            actor: &a.actor,
            person: &a.person,
            time: Self::time_of(day),
        };
        let (_, change) = record_doc::update(doc, &author, base, &new)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        if let Some(change) = change {
            self.outbox.push((
                by.clone(),
                Entry::Change {
                    hash: change.hash,
                    bytes: change.bytes,
                },
            ));
        }
        *base = new;
        Ok(())
    }

    /// Pushes the changes through the intake in the order they were made
    /// (a record before what names it), each device's run of them as its
    /// phone's sync would; any refusal stops the demo.
    fn push_all(&mut self) -> Result<(), Error> {
        let now = chrono::Utc::now().timestamp();
        let mut outbox = std::mem::take(&mut self.outbox).into_iter().peekable();
        while let Some((by, first)) = outbox.next() {
            let mut message = vec![first];
            while message.len() < CHANGES_PER_MESSAGE
                && let Some(entry) = outbox.next_if(|(p, _)| *p == by)
            {
                message.push(entry.1);
            }
            let a = self
                .actors
                .get(&by)
                .ok_or_else(|| Error::Invalid(format!("no demo device for {by}")))?;
            let n = message.len();
            let ack = ingest::ingest(self.db, &a.device, message, now)?;
            if let Some(r) = ack.refused.first() {
                return Err(Error::Invalid(format!(
                    "the demo's change by {by} was refused: {}",
                    r.reason
                )));
            }
            self.made.changes += n;
        }
        Ok(())
    }

    fn name(&mut self) -> String {
        format!(
            "{}{}",
            pick(&mut self.rng, SURNAMES),
            pick(&mut self.rng, GIVEN)
        )
    }

    /// The township office's own records, read in every village: the
    /// campaign's plan, the one-time checklists of two service matters and
    /// a notice to every village; and the day each village entered each
    /// phase, some of them behind the plan.
    fn township(&mut self, officer: &PersonId, villages: &[(String, String)]) -> Result<(), Error> {
        let start = self.start;
        let month = |m: u32| start.checked_add_months(Months::new(m)).unwrap_or(start);
        let plan = CampaignPlan {
            title: "红星镇党的群众路线教育实践活动实施方案".into(),
            issued_on: self.start,
            learning_start: month(0),
            learning_end: month(1),
            criticism_start: month(1),
            criticism_end: month(2),
            rectification_start: month(2),
            rectification_end: month(CAMPAIGN_MONTHS + 1),
        };
        let starts = [
            (CampaignPhase::Learning, plan.learning_start),
            (CampaignPhase::Criticism, plan.criticism_start),
            (CampaignPhase::Rectification, plan.rectification_start),
        ];
        self.create_in(
            officer,
            Scope::Township,
            self.start,
            Record::CampaignPlan(plan),
        )?;
        for (matter, items) in CHECKLISTS {
            let record = Record::ServiceChecklist(ServiceChecklist {
                matter: *matter,
                issued_on: self.start,
                items: items.iter().map(|s| s.to_string()).collect(),
            });
            self.create_in(officer, Scope::Township, self.start, record)?;
        }
        let notice = Record::Notice(Notice {
            date: month(1),
            category: NoticeCategory::PartyAffairs,
            medium: NoticeMedium::Meeting,
            title: "关于各村开展查摆问题、开展批评环节工作的通知".into(),
            content: "各村党支部：学习教育、听取意见环节即将结束，请按实施方案召开专题组织生活会，\
                      撰写对照检查材料，认真开展批评和自我批评。"
                .into(),
            about: Vec::new(),
        });
        self.create_in(officer, Scope::Township, month(1), notice)?;
        for (code, _) in villages {
            let code = VillageCode::new(code.as_str()).map_err(Error::Invalid)?;
            let secretary = person_id(&format!("{code}-shuji"))?;
            for (phase, planned) in starts {
                let lag = self.rng.random_range(0..=20);
                let entered = planned + chrono::Days::new(lag);
                if entered > self.today {
                    break;
                }
                let record = Record::PhaseEntry(PhaseEntry {
                    phase,
                    entered_on: entered,
                    note: String::new(),
                });
                self.create(&secretary, &code, entered, record)?;
            }
        }
        Ok(())
    }

    fn village(&mut self, code: &VillageCode, officer: &PersonId) -> Result<(), Error> {
        let secretary_name = self.name();
        let secretary = self.person(
            &format!("{code}-shuji"),
            &secretary_name,
            Role::Secretary,
            Some(code),
        )?;
        let cadre_name = self.name();
        let cadre = self.person(
            &format!("{code}-weiyuan"),
            &cadre_name,
            Role::Cadre,
            Some(code),
        )?;
        let n = self.rng.random_range(14..=26);
        let mut members = vec![
            (secretary.clone(), secretary_name.clone()),
            (cadre.clone(), cadre_name),
        ];
        for i in 1..=n {
            let name = self.name();
            let id = self.person(&format!("{code}-m{i:02}"), &name, Role::Member, Some(code))?;
            members.push((id, name));
        }
        let this_year = self.today.year();
        // Member files.
        for (id, name) in &members {
            let birth_year = self.rng.random_range(1940..=this_year - 22);
            let joined = self
                .rng
                .random_range(birth_year + 18..=(birth_year + 45).min(this_year - 1));
            let mobile = self.rng.random_bool(0.12);
            let record = Record::Member(Member {
                person: Some(id.clone()),
                name: name.clone(),
                birth_year: u16::try_from(birth_year).unwrap_or(1960),
                joined_on: NaiveDate::from_ymd_opt(joined, self.rng.random_range(1..=12), 1)
                    .unwrap_or(self.start),
                education: pick_code::<Education>(&mut self.rng),
                phone: String::new(),
                mobile,
                whereabouts: if mobile {
                    "在外务工".into()
                } else {
                    String::new()
                },
                contact_cadre: None,
                pairing: None,
            });
            let day = self.start;
            self.create(&secretary, code, day, record)?;
        }
        // Study sessions, about two a month, and each member's own study.
        let mut month = self.start;
        while month <= self.today {
            for _ in 0..2 {
                let day = self.day_from(month).min(month + chrono::Duration::days(27));
                if day > self.today {
                    continue;
                }
                let mut attendance = BTreeMap::new();
                for (id, _) in &members {
                    let present = self.rng.random_bool(0.85);
                    attendance.insert(
                        id.clone(),
                        Attendance {
                            present,
                            reason: if present {
                                String::new()
                            } else {
                                pick(&mut self.rng, ABSENT).to_string()
                            },
                        },
                    );
                }
                let record = Record::StudySession(StudySession {
                    date: day,
                    material: pick_code::<StudyMaterial>(&mut self.rng),
                    topic: pick(&mut self.rng, TOPICS).to_string(),
                    format: pick_code::<SessionFormat>(&mut self.rng),
                    organizer: secretary.clone(),
                    place: "村党员活动室".into(),
                    minutes: 30 * self.rng.random_range(2..=5),
                    notes: String::new(),
                    attendance,
                });
                self.create(&secretary, code, day, record)?;
            }
            month = month + Months::new(1);
        }
        for (id, _) in members.iter().skip(2) {
            // Some members study often, some seldom, a few not at all.
            let zeal: f64 = self.rng.random();
            if zeal < 0.12 {
                continue;
            }
            let entries = (zeal * 4.0 * f64::from(CAMPAIGN_MONTHS)) as usize;
            for _ in 0..entries {
                let day = self.day();
                let mode = *pick(
                    &mut self.rng,
                    &[
                        StudyMode::SelfStudy,
                        StudyMode::SelfStudy,
                        StudyMode::Pairing,
                        StudyMode::NightVisit,
                        StudyMode::DistanceEducation,
                    ],
                );
                let record = Record::StudyEntry(StudyEntry {
                    member: id.clone(),
                    date: day,
                    material: pick_code::<StudyMaterial>(&mut self.rng),
                    topic: pick(&mut self.rng, TOPICS).to_string(),
                    mode,
                    helper: mode.needs_helper().then(|| Helper {
                        kind: HelperKind::BackboneMember,
                        name: secretary_name.clone(),
                    }),
                    minutes: 15 * self.rng.random_range(2..=8),
                    reflection: pick(&mut self.rng, REFLECTIONS).to_string(),
                    comments: Vec::new(),
                });
                self.create(id, code, day, record)?;
            }
        }
        // Opinions of the masses.
        let mut opinions = Vec::new();
        for _ in 0..self.rng.random_range(8..=24) {
            let day = self.day();
            let status = *pick(
                &mut self.rng,
                &[
                    OpinionStatus::Received,
                    OpinionStatus::Received,
                    OpinionStatus::TakenUp,
                    OpinionStatus::Answered,
                ],
            );
            let record = Record::Opinion(Opinion {
                date: day,
                channel: pick_code::<OpinionChannel>(&mut self.rng),
                source: pick_code::<SourceGroup>(&mut self.rng),
                area: pick_code::<OpinionArea>(&mut self.rng),
                four_winds: pick_code::<FourWinds>(&mut self.rng),
                text: pick(&mut self.rng, OPINIONS).to_string(),
                anonymous: self.rng.random_bool(0.3),
                raised_by: None,
                status,
                answer: (status == OpinionStatus::Answered)
                    .then(|| "已在村民代表会议上答复".to_string()),
                visit: None,
                meeting: None,
            });
            let by = if self.rng.random_bool(0.5) {
                &secretary
            } else {
                &cadre
            };
            let by = by.clone();
            let id = self.create(&by, code, day, record)?;
            if status != OpinionStatus::Received {
                opinions.push(id);
            }
        }
        // Problems and their rectification measures.
        let problems = self.rng.random_range(3..=PROBLEMS.len());
        for (i, (title, measure)) in PROBLEMS.iter().take(problems).enumerate() {
            let day = self
                .day_from(self.start)
                .min(self.start + chrono::Duration::days(40));
            let linked: Vec<DocId> = opinions.iter().skip(i).step_by(problems).copied().collect();
            let how_found = pick_code::<HowFound>(&mut self.rng);
            let area = pick_code::<ProblemArea>(&mut self.rng);
            let four_winds = Some(pick_code::<FourWinds>(&mut self.rng));
            let problem = self.create(
                &secretary,
                code,
                day,
                Record::Problem(Problem {
                    title: (*title).into(),
                    how_found,
                    area,
                    four_winds,
                    found_on: Some(day),
                    steps: Default::default(),
                    background: String::new(),
                    causes: String::new(),
                    manifestations: String::new(),
                    direction: String::new(),
                    solutions: String::new(),
                    opinions: linked,
                }),
            )?;
            for _ in 0..self.rng.random_range(1..=2) {
                let planned = self.day_from(day);
                let deadline = planned + chrono::Duration::days(self.rng.random_range(20..=120));
                let mut steps = BTreeMap::from([(RectificationStatus::Planned, planned)]);
                let mut announced_on = None;
                let reached = self.rng.random_range(0..4);
                let mut at = planned;
                for step in [
                    RectificationStatus::InProgress,
                    RectificationStatus::Done,
                    RectificationStatus::Accepted,
                ]
                .into_iter()
                .take(reached)
                {
                    at = self.day_from(at);
                    if step == RectificationStatus::Accepted {
                        announced_on = Some(at);
                    }
                    steps.insert(step, at);
                }
                let responsible = if self.rng.random_bool(0.5) {
                    &secretary
                } else {
                    &cadre
                };
                let record = Record::Rectification(Rectification {
                    problem,
                    measure: (*measure).into(),
                    objective: String::new(),
                    responsible: vec![responsible.clone()],
                    deadline,
                    term: pick_code::<RectificationTerm>(&mut self.rng),
                    steps,
                    progress: Vec::new(),
                    announced_on,
                    submitted: None,
                    filed: None,
                });
                let id = self.create(&secretary, code, planned, record)?;
                // The secretary submits most measures done and announced for
                // filing; the township acknowledges most of those.
                if announced_on.is_some() && self.rng.random_bool(0.8) {
                    let submitted = self.day_from(at);
                    let by = secretary.clone();
                    self.edit(&secretary, &id, submitted, |r| {
                        if let Record::Rectification(r) = r {
                            r.submitted = Some(Submission {
                                date: submitted,
                                by: by.clone(),
                            });
                        }
                    })?;
                    if self.rng.random_bool(0.7) {
                        let filed = self.day_from(submitted);
                        let officer = officer.clone();
                        self.edit(&officer, &id, filed, |r| {
                            if let Record::Rectification(r) = r {
                                r.filed = Some(Filing {
                                    date: filed,
                                    acknowledged_by: officer.clone(),
                                });
                            }
                        })?;
                    }
                }
            }
        }
        // Practical things (3 to 5 asked; not every village keeps to it).
        for what in PRACTICAL.iter().take(self.rng.random_range(2..=6)) {
            let status = pick_code::<ThingStatus>(&mut self.rng);
            let done_on = (status == ThingStatus::Done).then(|| self.day());
            let record = Record::PracticalThing(PracticalThing {
                what: (*what).into(),
                target_date: self.today + chrono::Duration::days(self.rng.random_range(-30..=150)),
                responsible: vec![secretary.clone()],
                status,
                done_on,
                satisfaction: done_on.map(|_| pick_code::<Satisfaction>(&mut self.rng)),
            });
            let day = self.start;
            self.create(&secretary, code, day, record)?;
        }
        // An organizational-life meeting, in most villages.
        if self.rng.random_bool(0.7) {
            let day = self.day();
            let attendance = members
                .iter()
                .map(|(id, _)| {
                    (
                        id.clone(),
                        Attendance {
                            present: true,
                            reason: String::new(),
                        },
                    )
                })
                .collect();
            let appraisal = members
                .iter()
                .map(|(id, _)| (id.clone(), pick_code::<AppraisalGrade>(&mut self.rng)))
                .collect();
            let record = Record::OrgLifeMeeting(OrgLifeMeeting {
                date: day,
                topic: "专题组织生活会".into(),
                attendance,
                points: vec![MeetingPoint {
                    member: secretary.clone(),
                    kind: PointKind::SelfCriticism,
                    text: "深入群众不够".into(),
                }],
                appraisal,
            });
            self.create(&secretary, code, day, record)?;
        }
        // Notices.
        for _ in 0..self.rng.random_range(2..=6) {
            let day = self.day();
            let record = Record::Notice(Notice {
                date: day,
                category: pick_code::<NoticeCategory>(&mut self.rng),
                medium: pick_code::<NoticeMedium>(&mut self.rng),
                title: pick(&mut self.rng, NOTICES).to_string(),
                content: String::new(),
                about: Vec::new(),
            });
            self.create(&secretary, code, day, record)?;
        }
        // Services handled for villagers.
        for _ in 0..self.rng.random_range(2..=7) {
            let applied = self.day();
            let status = pick_code::<ServiceStatus>(&mut self.rng);
            let closed_on = status.is_closed().then(|| self.day_from(applied));
            let applicant = self.name();
            let record = Record::ServiceRequest(ServiceRequest {
                matter: pick_code::<ServiceMatter>(&mut self.rng),
                applicant,
                applied_on: applied,
                details: String::new(),
                checklist: vec!["身份证".into(), "户口簿".into()],
                agent: cadre.clone(),
                status,
                result: closed_on
                    .map(|_| "已办结并告知".to_string())
                    .unwrap_or_default(),
                closed_on,
                published_on: None,
                visit: None,
            });
            self.create(&cadre, code, applied, record)?;
        }
        Ok(())
    }
}

/// Fills the empty data directory `db` is in with the demo township: the
/// villages of [`VILLAGES`], their people, and [`CAMPAIGN_MONTHS`] months
/// of records up to `today`.
pub fn fill(db: &Db, seed: u64, today: NaiveDate) -> Result<Made, Error> {
    fill_villages(db, seed, today, &villages(VILLAGES.len()))
}

/// `count` villages' codes and names: those of [`VILLAGES`] first, then
/// numbered ones (`cun07`, 7号村, …), for a larger township (the bench's).
pub fn villages(count: usize) -> Vec<(String, String)> {
    (1..=count)
        .map(|i| match VILLAGES.get(i - 1) {
            Some((code, name)) => (code.to_string(), name.to_string()),
            None => (format!("cun{i:02}"), format!("{i}号村")),
        })
        .collect()
}

/// [`fill`] with these villages (code and name).
pub fn fill_villages(
    db: &Db,
    seed: u64,
    today: NaiveDate,
    villages: &[(String, String)],
) -> Result<Made, Error> {
    if !db.read(registry::villages)?.is_empty() {
        return Err(Error::Invalid(
            "the demo fills only an empty data directory: this one has villages".into(),
        ));
    }
    let start = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(CAMPAIGN_MONTHS - 1)))
        .unwrap_or(today);
    let mut maker = Maker {
        db,
        rng: StdRng::seed_from_u64(seed),
        today,
        start,
        actors: BTreeMap::new(),
        docs: BTreeMap::new(),
        outbox: Vec::new(),
        serial: 0,
        made: Made::default(),
    };
    db.write(|tx| registry::set_setting(tx, "township", "红星镇"))?;
    let officer = maker.person(OFFICER, "刘干事", Role::TownshipOfficer, None)?;
    for (code, name) in villages {
        let code = VillageCode::new(code.as_str()).map_err(Error::Invalid)?;
        db.write(|tx| registry::add_village(tx, &code, name))?;
        maker.village(&code, &officer)?;
        maker.made.villages += 1;
    }
    maker.township(&officer, villages)?;
    maker.push_all()?;
    db.write(rows::catch_up)?;
    Ok(maker.made)
}

/// [`fill`] the data directory at `dir` (made if missing) with the township
/// of `seed` as of today.
pub fn fill_dir(dir: &Path, seed: u64) -> Result<Made, Error> {
    let db = Db::open(dir)?;
    fill(&db, seed, chrono::Local::now().date_naive())
}
