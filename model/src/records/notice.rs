//! 党务村务公开 — what the village made public, when, and how; and what the
//! township office makes public to every village (its own scope).

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
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

/// What was made public (党务村务公开).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "notice",
    zh = "党务村务公开",
    en = "Public notice",
    audience = shared,
    command = "notice",
    table = "notices",
    index = "village, month"
)]
pub struct Notice {
    /// The day it was made public.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// What kind of matter.
    #[field(zh = "公开类别", en = "Category", line = 2, column)]
    pub category: NoticeCategory,
    /// How.
    #[field(zh = "公开方式", en = "Medium", new = "board", column)]
    pub medium: NoticeMedium,
    /// Its title.
    #[field(zh = "标题", en = "Title", text = 200, required, line = 3, column)]
    pub title: String,
    /// What was made public.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "公开内容", en = "Content", text = 8000)]
    pub content: String,
    /// Records it makes public (a rectification list, a service's result, …).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "相关记录", en = "Related records", refs = any, unique, count)]
    pub about: Vec<DocId>,
}

impl KindRules for Notice {
    /// The township office makes public to every village at once (a notice
    /// of the township's, read in every village).
    const TOWNSHIP_ISSUES: bool = true;
}
