//! The dashboard from outside, without a browser: HTTPS/1.1 requests over a
//! TLS connection pinned to the server's certificate, each on a connection
//! of its own, read to the end.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use massline_core::records::{
    AppraisalGrade, Attendance, Education, Filing, FourWinds, HowFound, Member, Opinion,
    OpinionChannel, OpinionStatus, Rectification, RectificationStatus, ServiceStatus, Submission,
    ThingStatus,
};
use massline_core::{DocId, PersonId, Record};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Device, Township};

/// An answer: status, headers (names in lower case) and body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first header of this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value a `Set-Cookie` header gives the cookie `name` (empty when
    /// it ends it).
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next()?.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// The hidden `csrf` field of the page's first form.
    pub fn csrf(&self) -> Option<String> {
        let text = self.text();
        let at = text.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
        Some(text[at..].split('"').next()?.to_string())
    }
}

/// A logged-in session: its cookie and its forms' token.
#[derive(Clone, Debug)]
pub struct Login {
    /// The session cookie's value.
    pub cookie: String,
    /// The CSRF token of its forms.
    pub csrf: String,
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = massline_server::web::session::SESSION_COOKIE;

/// The login forms' cookie's name.
pub const LOGIN_COOKIE: &str = massline_server::web::session::LOGIN_COOKIE;

/// How long the tests' login links stay valid.
pub const LINK_VALIDITY: Duration = Duration::from_secs(3600);

/// A client of one dashboard.
#[derive(Clone, Debug)]
pub struct Https {
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    from: Option<std::net::IpAddr>,
}

impl Https {
    /// A client of the dashboard at `addr`, pinned to the certificate in
    /// `township`'s data directory.
    pub fn new(township: &Township, addr: SocketAddr) -> Https {
        let pin = massline_server::certs::load_or_create(&township.data)
            .unwrap()
            .fingerprint;
        let mut config = (*massline_core::sync::tls::client_config(pin)).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Https {
            addr,
            config: Arc::new(config),
            from: None,
        }
    }

    /// The same client connecting from another local address (e.g.
    /// 127.0.0.2), as another machine would.
    pub fn from_address(mut self, ip: std::net::IpAddr) -> Https {
        self.from = Some(ip);
        self
    }

    /// `GET path` with these cookies.
    pub async fn get(&self, path: &str, cookies: &[(&str, &str)]) -> Answer {
        self.request("GET", path, cookies, None).await
    }

    /// `POST path` of a form with these cookies.
    pub async fn post(
        &self,
        path: &str,
        cookies: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Answer {
        let body = form
            .iter()
            .fold(
                form_urlencoded::Serializer::new(String::new()),
                |mut s, (k, v)| {
                    s.append_pair(k, v);
                    s
                },
            )
            .finish();
        self.request(
            "POST",
            path,
            cookies,
            Some(("application/x-www-form-urlencoded", body.into_bytes())),
        )
        .await
    }

    /// `POST path` of a form with a file (`multipart/form-data`), as a
    /// browser sends one: its text fields, then the file `(field, file
    /// name, bytes)`.
    pub async fn post_file(
        &self,
        path: &str,
        cookies: &[(&str, &str)],
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Answer {
        let boundary = "----massline-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        let (field, name, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.request("POST", path, cookies, Some((content_type.as_str(), body)))
            .await
    }

    /// `GET` with the session's cookie.
    pub async fn get_as(&self, login: &Login, path: &str) -> Answer {
        self.get(path, &[(SESSION_COOKIE, &login.cookie)]).await
    }

    /// Logs in with a password through the login form, which must succeed.
    pub async fn login(&self, person: &str, password: &str) -> Login {
        let form = self.get("/login", &[]).await;
        assert_eq!(form.status, 200, "{}", form.text());
        let pre = form.set_cookie(LOGIN_COOKIE).unwrap();
        let csrf = form.csrf().unwrap();
        let answer = self
            .post(
                "/login",
                &[(LOGIN_COOKIE, &pre)],
                &[("csrf", &csrf), ("person", person), ("password", password)],
            )
            .await;
        assert_eq!(answer.status, 303, "login as {person}: {}", answer.text());
        let cookie = answer.set_cookie(SESSION_COOKIE).unwrap();
        self.session(cookie).await
    }

    /// The session of a cookie, with its forms' token read from a page.
    pub async fn session(&self, cookie: String) -> Login {
        let mut path = "/".to_string();
        for _ in 0..3 {
            let page = self.get(&path, &[(SESSION_COOKIE, &cookie)]).await;
            if page.status == 303 {
                path = page.header("location").unwrap().to_string();
                continue;
            }
            assert_eq!(page.status, 200, "{}", page.text());
            let csrf = page.csrf().unwrap();
            return Login { cookie, csrf };
        }
        panic!("too many redirects");
    }

    /// `POST path` of a form with a file whose headers declare `length`
    /// bytes of body, none of which is sent: what a server answers before
    /// reading a body it will not take.
    pub async fn post_declaring(
        &self,
        path: &str,
        cookies: &[(&str, &str)],
        length: u64,
    ) -> Answer {
        let mut tls = self.connect().await;
        let c: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: massline.local\r\nConnection: close\r\n\
             Cookie: {}\r\nContent-Type: multipart/form-data; boundary=x\r\n\
             Content-Length: {length}\r\n\r\n",
            c.join("; ")
        );
        tls.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut raw))
            .await
            .expect("an answer within 30 s")
            .ok();
        parse(&raw)
    }

    /// Starts `POST path` of a form with a file declaring `length` bytes of
    /// body and sends none of it: an upload stalled on its way. The
    /// connection stays open until the stream is dropped.
    pub async fn start_stalled_upload(
        &self,
        path: &str,
        cookies: &[(&str, &str)],
        length: u64,
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let mut tls = self.connect().await;
        let c: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: massline.local\r\n\
             Cookie: {}\r\nContent-Type: multipart/form-data; boundary=x\r\n\
             Content-Length: {length}\r\n\r\n",
            c.join("; ")
        );
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        tls
    }

    async fn connect(&self) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let tcp = match self.from {
            None => tokio::net::TcpStream::connect(self.addr).await.unwrap(),
            Some(ip) => {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind(SocketAddr::new(ip, 0)).unwrap();
                socket.connect(self.addr).await.unwrap()
            }
        };
        let name = rustls::pki_types::ServerName::try_from("massline.local").unwrap();
        tokio_rustls::TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .unwrap()
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        cookies: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut tls = self.connect().await;
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: massline.local\r\nConnection: close\r\n");
        if !cookies.is_empty() {
            let c: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            head.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        let (content_type, body) =
            body.unwrap_or(("application/x-www-form-urlencoded", Vec::new()));
        if method == "POST" {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&body);
        tls.write_all(&bytes).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut raw))
            .await
            .expect("an answer within 30 s")
            .ok();
        parse(&raw)
    }
}

/// An HTTP/1.1 answer read to its end.
fn parse(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        unchunk(rest)
    } else {
        rest.to_vec()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn unchunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
    out
}

/// The dashboard password the tests give every township officer, secretary
/// and cadre.
pub const PASSWORD: &str = "correct horse battery staple";

/// What [`populate`] made: per village, the figures the dashboard must
/// show (by the ids of its cells, `{village}-{key}`), computed from the
/// records themselves rather than from the server.
#[derive(Clone, Debug, Default)]
pub struct Made {
    /// Village → figure → count.
    pub expected: BTreeMap<String, BTreeMap<&'static str, i64>>,
    /// Every member file's name, by village.
    pub members: BTreeMap<String, Vec<String>>,
    /// Every record made, as it stands, with its village.
    pub records: Vec<(String, Record)>,
}

impl Made {
    /// The township's total of a figure.
    pub fn total(&self, key: &str) -> i64 {
        self.expected.values().filter_map(|f| f.get(key)).sum()
    }
}

fn member(person: &str, name: &str, born: u16, mobile: bool) -> Record {
    Record::Member(Member {
        person: Some(PersonId::new(person).unwrap()),
        name: name.to_string(),
        birth_year: born,
        joined_on: NaiveDate::from_ymd_opt(i32::from(born) + 25, 7, 1).unwrap(),
        education: Education::SeniorMiddle,
        phone: String::new(),
        mobile,
        whereabouts: if mobile {
            "广东东莞".into()
        } else {
            String::new()
        },
        contact_cadre: None,
        pairing: None,
    })
}

/// Has `secretary` (a device of a village secretary) make a measure of
/// `problem`, done and announced on 1 August 2024, and submit it for filing
/// today in their own name; returns its id (not yet synced).
pub fn submitted_measure(secretary: &Device, problem: DocId, measure: &str) -> DocId {
    let mut record = crate::rectification(problem, measure);
    if let Record::Rectification(r) = &mut record {
        let d = NaiveDate::from_ymd_opt(2024, 8, 1).unwrap();
        r.advance(RectificationStatus::InProgress, d);
        r.advance(RectificationStatus::Done, d);
        r.announced_on = Some(d);
        r.submitted = Some(Submission {
            date: chrono::Local::now().date_naive(),
            by: secretary
                .client
                .identity()
                .unwrap()
                .unwrap()
                .principal
                .person,
        });
    }
    secretary.client.create(record, None).unwrap()
}

/// Makes the records of both villages on real devices (each author's own),
/// syncs them, has the township officer acknowledge a filing, waits for the
/// typed rows, and sets [`PASSWORD`] for everyone who may log in.
pub async fn populate(town: &Township, addr: SocketAddr) -> Made {
    let today = chrono::Local::now().date_naive();
    let mut devices = BTreeMap::new();
    for who in ["zhang", "wang", "chen", "sun", "liu"] {
        devices.insert(who, Device::enrol(town, addr, who).await);
    }
    let present = |p: bool, reason: &str| Attendance {
        present: p,
        reason: reason.to_string(),
    };
    let mut session_rec = crate::session("学习群众路线");
    if let Record::StudySession(s) = &mut session_rec {
        s.attendance = [
            (PersonId::new("wang").unwrap(), present(true, "")),
            (PersonId::new("zhao").unwrap(), present(false, "外出务工")),
            (PersonId::new("zhang").unwrap(), present(true, "")),
        ]
        .into();
    }
    let opinion_with = |status: OpinionStatus| {
        let mut o = crate::opinion("村务公开不及时");
        if let Record::Opinion(x) = &mut o {
            x.status = status;
            if status == OpinionStatus::Answered {
                x.answer = Some("已在村民大会答复".into());
            }
        }
        o
    };
    let mut appraised = crate::meeting("专题组织生活会");
    if let Record::OrgLifeMeeting(m) = &mut appraised {
        m.appraisal = [
            (PersonId::new("wang").unwrap(), AppraisalGrade::Excellent),
            (PersonId::new("zhao").unwrap(), AppraisalGrade::Qualified),
        ]
        .into();
    }
    let mut by_letter = opinion_with(OpinionStatus::Answered);
    if let Record::Opinion(o) = &mut by_letter {
        o.channel = OpinionChannel::LetterOrPetition;
        o.four_winds = FourWinds::Bureaucratism;
    }
    let mut practical_done = crate::practical("修路");
    if let Record::PracticalThing(t) = &mut practical_done {
        t.status = ThingStatus::Done;
        t.done_on = Some(NaiveDate::from_ymd_opt(2024, 9, 1).unwrap());
    }
    // (author, village, record) in the order they are made; measures come after.
    let mut plan: Vec<(&str, &str, Record)> = vec![
        ("zhang", "dongcun", member("wang", "王党员", 1950, false)),
        ("zhang", "dongcun", member("zhao", "赵党员", 1990, true)),
        ("zhang", "dongcun", member("zhang", "张书记", 1970, false)),
        ("zhang", "dongcun", session_rec),
        ("wang", "dongcun", crate::study("wang", 45, "自学读本")),
        ("wang", "dongcun", crate::study("wang", 30, "夜访")),
        ("zhang", "dongcun", opinion_with(OpinionStatus::Received)),
        ("zhang", "dongcun", opinion_with(OpinionStatus::TakenUp)),
        ("zhang", "dongcun", opinion_with(OpinionStatus::Answered)),
        ("zhang", "dongcun", practical_done),
        ("zhang", "dongcun", crate::practical("装路灯")),
        ("zhang", "dongcun", crate::notice("财务公开")),
        ("zhang", "dongcun", crate::service("张大爷")),
        ("zhang", "dongcun", appraised),
        ("zhang", "dongcun", crate::regulation("村务公开制度")),
        ("zhang", "dongcun", crate::listening_meeting("村务公开")),
        ("zhang", "dongcun", by_letter),
        ("chen", "xicun", member("sun", "孙党员", 1980, false)),
        ("chen", "xicun", member("chen", "陈委员", 1975, true)),
        ("sun", "xicun", crate::study("sun", 60, "自学")),
        ("chen", "xicun", opinion_with(OpinionStatus::Received)),
    ];
    for what in ["修路", "装路灯", "建广场"] {
        let mut p = crate::practical(what);
        if let Record::PracticalThing(t) = &mut p {
            t.responsible = vec![PersonId::new("chen").unwrap()];
        }
        plan.push(("chen", "xicun", p));
    }
    for (author, _, record) in &plan {
        devices[author].client.create(record.clone(), None).unwrap();
    }
    // Problems and their measures: one overdue, one under way, one done,
    // announced, accepted and (below) filed.
    let zhang = &devices["zhang"].client;
    let p1 = zhang
        .create(crate::problem("村务公开不规范"), None)
        .unwrap();
    let mut p2_rec = crate::problem("办事程序繁琐");
    if let Record::Problem(p) = &mut p2_rec {
        p.how_found = HowFound::RaisedByMasses;
    }
    let p2 = zhang.create(p2_rec.clone(), None).unwrap();
    plan.push(("zhang", "dongcun", crate::problem("村务公开不规范")));
    plan.push(("zhang", "dongcun", p2_rec));
    let overdue = crate::rectification(p1, "每月公开");
    let mut under_way = crate::rectification(p1, "建立值班制度");
    if let Record::Rectification(r) = &mut under_way {
        r.deadline = NaiveDate::from_ymd_opt(2099, 12, 31).unwrap();
        r.advance(
            RectificationStatus::InProgress,
            NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        );
    }
    let mut accepted = crate::rectification(p2, "一站式代办");
    if let Record::Rectification(r) = &mut accepted {
        let d = NaiveDate::from_ymd_opt(2024, 8, 1).unwrap();
        r.advance(RectificationStatus::InProgress, d);
        r.advance(RectificationStatus::Done, d);
        r.advance(RectificationStatus::Accepted, d);
        r.announced_on = Some(d);
        r.submitted = Some(massline_core::records::Submission {
            date: d,
            by: PersonId::new("zhang").unwrap(),
        });
    }
    let mut measure_ids = Vec::new();
    for r in [&overdue, &under_way, &accepted] {
        measure_ids.push(zhang.create(r.clone(), None).unwrap());
    }
    let chen = &devices["chen"].client;
    let p3_rec = crate::problem("党员教育松散");
    let p3 = chen.create(p3_rec.clone(), None).unwrap();
    plan.push(("chen", "xicun", p3_rec));
    let mut xi_measure = crate::rectification(p3, "每月主题党日");
    if let Record::Rectification(r) = &mut xi_measure {
        r.responsible = vec![PersonId::new("chen").unwrap()];
        r.deadline = NaiveDate::from_ymd_opt(2099, 1, 1).unwrap();
    }
    chen.create(xi_measure.clone(), None).unwrap();
    for who in ["zhang", "wang", "chen", "sun", "liu"] {
        let r = devices[who].client.sync().await.unwrap();
        assert_eq!(r.refused, 0, "{who}: {r:?}");
    }
    // The township acknowledges the accepted measure's filing.
    let liu = &devices["liu"].client;
    let filed_id = measure_ids[2];
    liu.edit(&filed_id, |r| {
        if let Record::Rectification(x) = r {
            x.filed = Some(Filing {
                date: today,
                acknowledged_by: PersonId::new("liu").unwrap(),
            });
        }
        Ok(())
    })
    .unwrap();
    let r = liu.sync().await.unwrap();
    assert_eq!(r.refused, 0, "{r:?}");
    let mut filed = accepted.clone();
    if let Record::Rectification(x) = &mut filed {
        x.filed = Some(Filing {
            date: today,
            acknowledged_by: PersonId::new("liu").unwrap(),
        });
    }
    plan.extend([
        ("zhang", "dongcun", overdue),
        ("zhang", "dongcun", under_way),
        ("zhang", "dongcun", filed),
        ("chen", "xicun", xi_measure),
    ]);
    town.wait_for_rows();
    let db = massline_server::admin::open(&town.data).unwrap();
    for who in ["liu", "zhang", "li", "chen"] {
        massline_server::admin::set_password(&db, &PersonId::new(who).unwrap(), PASSWORD).unwrap();
    }
    expectations(&plan, today)
}

/// The figures of the records in `plan`, counted here in plain Rust.
fn expectations(plan: &[(&str, &str, Record)], today: NaiveDate) -> Made {
    let mut made = Made {
        records: plan
            .iter()
            .map(|(_, v, r)| (v.to_string(), r.clone()))
            .collect(),
        ..Made::default()
    };
    for village in ["dongcun", "xicun"] {
        let records: Vec<&Record> = plan
            .iter()
            .filter(|(_, v, _)| *v == village)
            .map(|(_, _, r)| r)
            .collect();
        let members: Vec<&Member> = records
            .iter()
            .filter_map(|r| match r {
                Record::Member(m) => Some(m),
                _ => None,
            })
            .collect();
        let mut studied = std::collections::BTreeSet::new();
        for r in &records {
            match r {
                Record::StudyEntry(e) => {
                    studied.insert(e.member.clone());
                }
                Record::StudySession(s) => {
                    studied.extend(
                        s.attendance
                            .iter()
                            .filter(|(_, a)| a.present)
                            .map(|(p, _)| p.clone()),
                    );
                }
                _ => {}
            }
        }
        let studied = members
            .iter()
            .filter(|m| m.person.as_ref().is_some_and(|p| studied.contains(p)))
            .count() as i64;
        let count = |f: &dyn Fn(&Record) -> bool| records.iter().filter(|r| f(r)).count() as i64;
        let measures: Vec<&Rectification> = records
            .iter()
            .filter_map(|r| match r {
                Record::Rectification(x) => Some(x),
                _ => None,
            })
            .collect();
        let m =
            |f: &dyn Fn(&Rectification) -> bool| measures.iter().filter(|r| f(r)).count() as i64;
        let opinions: Vec<&Opinion> = records
            .iter()
            .filter_map(|r| match r {
                Record::Opinion(o) => Some(o),
                _ => None,
            })
            .collect();
        let figures: BTreeMap<&'static str, i64> = [
            ("members", members.len() as i64),
            ("mobile", members.iter().filter(|m| m.mobile).count() as i64),
            (
                "aged_60",
                members
                    .iter()
                    .filter(|m| i32::from(m.birth_year) <= today.year() - 60)
                    .count() as i64,
            ),
            ("studied", studied),
            ("not_studied", members.len() as i64 - studied),
            ("sessions", count(&|r| matches!(r, Record::StudySession(_)))),
            ("opinions", opinions.len() as i64),
            (
                "taken_up",
                opinions
                    .iter()
                    .filter(|o| o.status != OpinionStatus::Received)
                    .count() as i64,
            ),
            (
                "answered",
                opinions.iter().filter(|o| o.answer.is_some()).count() as i64,
            ),
            ("problems", count(&|r| matches!(r, Record::Problem(_)))),
            ("measures", measures.len() as i64),
            ("done", m(&|r| r.status() >= RectificationStatus::Done)),
            (
                "accepted",
                m(&|r| r.status() == RectificationStatus::Accepted),
            ),
            ("overdue", m(&|r| r.overdue(today))),
            ("unfiled", m(&|r| r.filed.is_none())),
            (
                "practical_done",
                count(&|r| matches!(r, Record::PracticalThing(t) if t.status == ThingStatus::Done)),
            ),
            ("notices", count(&|r| matches!(r, Record::Notice(_)))),
            (
                "org_life",
                count(&|r| matches!(r, Record::OrgLifeMeeting(_))),
            ),
            (
                "service_open",
                count(&|r| {
                    matches!(r, Record::ServiceRequest(q)
                        if !matches!(q.status, ServiceStatus::Done | ServiceStatus::Declined))
                }),
            ),
        ]
        .into();
        made.expected.insert(village.to_string(), figures);
        made.members.insert(
            village.to_string(),
            members.iter().map(|m| m.name.clone()).collect(),
        );
    }
    made
}
