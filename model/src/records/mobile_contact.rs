//! 流动党员联系记录 — a cadre keeping in touch with a mobile member (流动党员),
//! working or living away from the village: when, how, what was said, and
//! whether study materials were sent. Their study counts like anyone's.

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::validation::ValidationError;
use super::{Member, Record};
use crate::coded_enum;
use crate::ids::{DocId, PersonId};
use crate::record_doc::StoredRecord;

coded_enum! {
    /// How the cadre reached the mobile member.
    pub enum ContactMeans as "contact_means" {
        Phone = "phone", "电话", "Phone call";
        Message = "message", "短信、微信", "Text or WeChat message";
        Letter = "letter", "信函", "Letter";
        Visit = "visit", "当面", "In person";
        Other = "other", "其他", "Other";
    }
}

/// A contact with a mobile member (流动党员联系记录). Cadres only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "mobile_contact",
    zh = "流动党员联系记录",
    en = "Mobile member contact",
    audience = cadre,
    command = "contact",
    table = "mobile_contacts",
    index = "village, month"
)]
pub struct MobileContact {
    /// The mobile member's file.
    #[field(zh = "流动党员", en = "Mobile member", refs = Member, line = 2, column)]
    pub member: DocId,
    /// The day of the contact.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// The cadre who kept in touch.
    #[field(zh = "联系干部", en = "Cadre", refs, new = me, column)]
    pub cadre: PersonId,
    /// How.
    #[field(zh = "联系方式", en = "How", new = "phone", column)]
    pub how: ContactMeans,
    /// What was said.
    #[field(zh = "联系内容", en = "What was said", text = 2000, required, line = 3)]
    pub said: String,
    /// Whether study materials were sent to them.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "已寄送学习资料", en = "Study materials sent", line = 4, column)]
    pub materials_sent: bool,
}

impl KindRules for MobileContact {
    /// The file named is a mobile member's, as the author's phone holds it
    /// (another phone may mark the member mobile, or back, meanwhile).
    fn check_named(
        &self,
        _id: &DocId,
        field: &str,
        named_id: &DocId,
        named: &StoredRecord,
        authors_copy: bool,
    ) -> Result<(), ValidationError> {
        match &named.record {
            Record::Member(Member { mobile: false, .. }) if authors_copy => Err(
                ValidationError::new(field, format!("member {named_id} is not a mobile member")),
            ),
            _ => Ok(()),
        }
    }
}
