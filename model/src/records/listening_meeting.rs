//! 征求意见会 — a meeting held to hear the masses' opinions: what kind, when,
//! where, who came, and what was asked. The opinions heard there name it.

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// What kind of meeting heard the opinions.
    pub enum ListeningFormat as "listening_format" {
        MembersMeeting = "members_meeting", "党员大会", "General party membership meeting";
        RepresentativesMeeting = "representatives_meeting", "村民代表会议", "Villagers' representatives meeting";
        GroupMeeting = "group_meeting", "村民小组会议", "Villagers' group meeting";
        VillagersMeeting = "villagers_meeting", "村民会议", "Villagers' meeting";
        Symposium = "symposium", "座谈会", "Symposium";
    }
}

/// A meeting to hear the opinions of the masses (征求意见会).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "listening_meeting",
    zh = "征求意见会",
    en = "Listening meeting",
    audience = cadre,
    command = "listening",
    table = "listening_meetings",
    index = "village, month"
)]
pub struct ListeningMeeting {
    /// The day it was held.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// What kind of meeting.
    #[field(zh = "会议类型", en = "Kind of meeting", line = 2, column)]
    pub format: ListeningFormat,
    /// Where.
    #[field(zh = "地点", en = "Place", text = 100, required)]
    pub place: String,
    /// What the masses were asked about.
    #[field(zh = "征求内容", en = "Topics", text = 2000, required, line = 4)]
    pub topics: String,
    /// Party members and others of the village who came, by person.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "参会党员",
        en = "Members present",
        refs,
        unique,
        count = "members"
    )]
    pub members: Vec<PersonId>,
    /// How many others came (villagers, representatives, guests).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "其他参会人数", en = "Others present", max = Self::MAX_OTHERS, line = 3, column)]
    pub others: u32,
}

impl ListeningMeeting {
    /// Most others one meeting can count.
    pub const MAX_OTHERS: u32 = 5000;
}

impl KindRules for ListeningMeeting {}
