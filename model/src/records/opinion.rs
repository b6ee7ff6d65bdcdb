//! 意见建议 — an opinion of the masses, heard at a meeting, a visit or a talk.
//!
//! Opinions are evidence: once filed, what was heard, where and from whom is
//! kept as it was (see [`Opinion::EVIDENCE`]); village roles cannot withdraw
//! them. Their status and the answer to the masses move on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use super::visit::DemandLink;
use crate::coded_enum;

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

/// 意见建议: one opinion, as heard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opinion {
    /// The day it was heard.
    pub date: NaiveDate,
    /// Where it was heard.
    pub channel: OpinionChannel,
    /// Whom it came from.
    pub source: SourceGroup,
    /// What it is about.
    pub area: OpinionArea,
    /// Which "four winds" it names.
    pub four_winds: FourWinds,
    /// The opinion in the words heard.
    pub text: String,
    /// The person asked not to be named.
    #[serde(default)]
    pub anonymous: bool,
    /// Who raised it, unless anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raised_by: Option<String>,
    /// Where it stands.
    pub status: OpinionStatus,
    /// The answer given to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The visit demand it was made of, if it came from a visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<DemandLink>,
}

impl Opinion {
    /// The fields that are evidence: never changed once the opinion is filed.
    pub const EVIDENCE: &[&str] = &[
        "date",
        "channel",
        "source",
        "text",
        "anonymous",
        "raised_by",
        "visit",
    ];

    /// The rules every opinion keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::date("date", self.date)?;
        check::required_text("text", &self.text, 4000)?;
        match (&self.raised_by, self.anonymous) {
            (Some(_), true) => {
                return Err(ValidationError::new(
                    "raised_by",
                    "an anonymous opinion names nobody",
                ));
            }
            (Some(name), false) => check::required_text("raised_by", name, 100)?,
            (None, _) => {}
        }
        match (&self.answer, self.status) {
            (None, OpinionStatus::Answered) => Err(ValidationError::new(
                "answer",
                "an opinion answered to the masses needs the answer",
            )),
            (Some(a), _) => check::required_text("answer", a, 4000),
            (None, _) => Ok(()),
        }
    }
}
