//! 意见建议 — an opinion of the masses, heard at a meeting, a visit or a talk.
//!
//! Opinions are evidence: once filed, what was heard, where and from whom is
//! kept as it was (the `evidence` fields); village roles cannot withdraw
//! them. Their status and the answer to the masses move on.

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::{KindRules, Withdrawers};
use super::validation::ValidationError;
use super::visit::{DemandLink, made_of_demand};
use super::{Record, RecordKind};
use crate::coded_enum;
use crate::ids::DocId;
use crate::record_doc::StoredRecord;

coded_enum! {
    /// Where the opinion was heard.
    pub enum OpinionChannel as "opinion_channel" {
        MembersMeeting = "members_meeting", "党员大会", "Party members' general meeting";
        RepresentativesMeeting = "representatives_meeting", "村民代表会议", "Villagers' representatives meeting";
        GroupMeeting = "group_meeting", "村民小组会议", "Villagers' group meeting";
        VillagersMeeting = "villagers_meeting", "村民会议", "Villagers' meeting";
        HouseholdVisit = "household_visit", "入户走访", "Household visit";
        HeartToHeart = "heart_to_heart", "谈心谈话", "Heart-to-heart talk";
        LetterOrPetition = "letter_or_petition", "来信来访", "Letter or petition";
    }
}

coded_enum! {
    /// Whom the opinion came from.
    pub enum SourceGroup as "source_group" {
        VillageLeaders = "village_leaders", "村内带头人", "Village leaders";
        TwoRepsOneMember = "two_reps_one_member", "“两代表一委员”", "\"Two representatives and one member\"";
        BoardMembers = "board_members", "理事会成员", "Board members";
        RetiredCadres = "retired_cadres", "离任村干部", "Retired village cadres";
        WellOff = "well_off", "致富能人", "Well-off households";
        Poor = "poor", "困难群众", "Poor households";
        LeftBehind = "left_behind", "留守家庭", "Left-behind families";
        Petitioners = "petitioners", "上访户", "Petitioners";
        NailHouseholds = "nail_households", "“钉子户”", "\"Nail households\"";
        PartyMember = "party_member", "党员", "Party member";
        Villager = "villager", "村民", "Villager";
    }
}

coded_enum! {
    /// What the opinion is about.
    pub enum OpinionArea as "opinion_area" {
        CadreConduct = "cadre_conduct", "村干部作风", "Conduct of village cadres";
        PartyAffairs = "party_affairs", "党务", "Party affairs";
        VillageAffairs = "village_affairs", "村务", "Village affairs";
        GrassrootsOrganization = "grassroots_organization", "基层组织", "Grassroots organization";
        MemberRanks = "member_ranks", "党员队伍", "Party member ranks";
    }
}

coded_enum! {
    /// Which of the "four winds" the opinion names.
    pub enum FourWinds as "four_winds" {
        Formalism = "formalism", "形式主义", "Formalism";
        Bureaucratism = "bureaucratism", "官僚主义", "Bureaucratism";
        Hedonism = "hedonism", "享乐主义", "Hedonism";
        Extravagance = "extravagance", "奢靡之风", "Extravagance";
        None = "none", "不涉及", "None";
    }
}

coded_enum! {
    /// Where the opinion stands.
    pub enum OpinionStatus as "opinion_status" {
        Received = "received", "已收集", "Received";
        TakenUp = "taken_up", "已列为问题", "Taken up as a problem";
        Answered = "answered", "已反馈群众", "Answered to the masses";
    }
}

/// Opinions of the masses (意见建议). Kept as heard: the words never change. Cadres only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "opinion",
    zh = "意见建议",
    en = "Opinion",
    audience = cadre,
    command = "opinion",
    table = "opinions",
    index = "village, month"
)]
pub struct Opinion {
    /// The day it was heard.
    #[field(zh = "日期", en = "Date", date, evidence, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// Where it was heard.
    #[field(zh = "征求渠道", en = "Channel", evidence, line = 2, column)]
    pub channel: OpinionChannel,
    /// Whom it came from.
    #[field(zh = "意见来源", en = "Source", evidence, column)]
    pub source: SourceGroup,
    /// What it is about.
    #[field(zh = "方面", en = "Area", column)]
    pub area: OpinionArea,
    /// Which "four winds" it names.
    #[field(zh = "“四风”问题", en = "\"Four winds\"", new = "none", column)]
    pub four_winds: FourWinds,
    /// The opinion in the words heard.
    #[field(
        zh = "内容",
        en = "Text",
        text = 4000,
        required,
        evidence,
        line = 4,
        column
    )]
    pub text: String,
    /// The person asked not to be named.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "匿名", en = "Anonymous", evidence, column)]
    pub anonymous: bool,
    /// Who raised it, unless anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "提出人", en = "Raised by", text = 100, required, evidence)]
    pub raised_by: Option<String>,
    /// Where it stands.
    #[field(zh = "状态", en = "Status", new = "received", line = 3, column)]
    pub status: OpinionStatus,
    /// The answer given to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "反馈答复",
        en = "Answer",
        text = 4000,
        required,
        columns(answered: int = self.answer.is_some(), answer: text? = self.answer.as_ref())
    )]
    pub answer: Option<String>,
    /// The visit demand it was made of, if it came from a visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "来源走访",
        en = "From visit",
        evidence,
        columns(from_visit: blob? = self.visit.as_ref().map(|l| &l.visit))
    )]
    pub visit: Option<DemandLink>,
    /// The listening meeting it was heard at, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "征求意见会",
        en = "Listening meeting",
        evidence,
        refs = ListeningMeeting,
        cli = "meeting",
        columns(meeting: blob? = self.meeting.as_ref())
    )]
    pub meeting: Option<DocId>,
}

impl Opinion {
    /// Marks a received opinion taken up into a problem; one answered
    /// already stays answered.
    pub fn take_up(&mut self) {
        if self.status == OpinionStatus::Received {
            self.status = OpinionStatus::TakenUp;
        }
    }
}

impl KindRules for Opinion {
    /// A villager's personal data (an opinion names the villager who gave it): erased on request.
    const PURGEABLE: bool = true;

    /// An anonymous opinion names nobody; one answered has its answer.
    fn check(&self) -> Result<(), ValidationError> {
        if self.anonymous && self.raised_by.is_some() {
            return Err(ValidationError::new(
                "raised_by",
                "an anonymous opinion names nobody",
            ));
        }
        if self.status == OpinionStatus::Answered && self.answer.is_none() {
            return Err(ValidationError::new(
                "answer",
                "an opinion answered to the masses needs the answer",
            ));
        }
        Ok(())
    }

    /// Evidence the village keeps: no village role withdraws it.
    const WITHDRAWN_BY: Withdrawers = Withdrawers::TownshipOnly;

    fn check_named(
        &self,
        id: &DocId,
        _field: &str,
        _named_id: &DocId,
        named: &StoredRecord,
        authors_copy: bool,
    ) -> Result<(), ValidationError> {
        match &named.record {
            Record::Visit(v) if authors_copy => {
                made_of_demand(id, RecordKind::Opinion, self.visit.as_ref(), v, |d| {
                    d.opinion
                })
            }
            _ => Ok(()),
        }
    }
}
