//! 党务村务公开 — what the village made public, when, and how.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::DocId;

coded_enum! {
    /// What kind of matter was made public.
    pub enum NoticeCategory as "notice_category" {
        PartyAffairs = "party_affairs", "党务公开", "Party affairs";
        VillageAffairs = "village_affairs", "村务公开", "Village affairs";
        Finance = "finance", "财务公开", "Finances";
        Procedure = "procedure", "办事程序和结果", "Procedures and results of services";
        Rectification = "rectification", "整改情况", "Rectification";
        Other = "other", "其他", "Other";
    }
}

coded_enum! {
    /// How it was made public.
    pub enum NoticeMedium as "notice_medium" {
        Board = "board", "公开栏", "Public notice board";
        Meeting = "meeting", "会议通报", "Announced at a meeting";
        Broadcast = "broadcast", "广播", "Loudspeaker";
        Other = "other", "其他", "Other";
    }
}

/// 党务村务公开: one notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// The day it was made public.
    pub date: NaiveDate,
    /// What kind of matter.
    pub category: NoticeCategory,
    /// How.
    pub medium: NoticeMedium,
    /// Its title.
    pub title: String,
    /// What was made public.
    #[serde(default)]
    pub content: String,
    /// Records it makes public (a rectification list, a service's result, …).
    #[serde(default)]
    pub about: Vec<DocId>,
}

impl Notice {
    /// The rules every notice keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::date("date", self.date)?;
        check::required_text("title", &self.title, 200)?;
        check::text("content", &self.content, 8000)?;
        check::unique("about", &self.about)
    }
}
