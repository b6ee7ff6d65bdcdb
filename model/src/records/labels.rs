//! Chinese and English names of record fields, and of the codes stored in
//! them, for any screen that shows a record.

use super::{
    AppraisalGrade, Education, FourWinds, HelperKind, HouseholdGroup, HowFound, NoticeCategory,
    NoticeMedium, OpinionArea, OpinionChannel, OpinionStatus, PointKind, ProblemArea, RecordKind,
    RectificationStatus, RectificationTerm, Satisfaction, ServiceMatter, ServiceStatus,
    SessionFormat, SourceGroup, StudyMaterial, StudyMode, ThingStatus,
};
use crate::codes::{Coded, Lang};

/// `(field, 中文, English)` for every field of every record kind.
const FIELDS: &[(&str, &str, &str)] = &[
    ("member", "党员", "Member"),
    ("person", "人员编号", "Person id"),
    ("name", "姓名", "Name"),
    ("birth_year", "出生年份", "Year of birth"),
    ("joined_on", "入党日期", "Joined the Party"),
    ("education", "文化程度", "Education"),
    ("phone", "联系电话", "Phone"),
    ("mobile", "流动党员", "Mobile member"),
    ("whereabouts", "现在何处", "Whereabouts"),
    ("date", "日期", "Date"),
    ("material", "学习内容", "Material"),
    ("topic", "主题", "Topic"),
    ("format", "学习形式", "Format"),
    ("organizer", "组织者", "Organizer"),
    ("place", "地点", "Place"),
    ("notes", "情况记录", "Notes"),
    ("attendance", "出席情况", "Attendance"),
    ("present", "出席", "Present"),
    ("mode", "学习方式", "Mode"),
    ("helper", "帮学人", "Helper"),
    ("minutes", "时长(分钟)", "Minutes"),
    ("reflection", "学习体会", "Reflection"),
    ("comments", "点评", "Comments"),
    ("channel", "征求渠道", "Channel"),
    ("source", "意见来源", "Source"),
    ("area", "方面", "Area"),
    ("four_winds", "“四风”问题", "\"Four winds\""),
    ("text", "内容", "Text"),
    ("anonymous", "匿名", "Anonymous"),
    ("raised_by", "提出人", "Raised by"),
    ("status", "状态", "Status"),
    ("answer", "反馈答复", "Answer"),
    ("visit", "来源走访", "From visit"),
    ("title", "标题", "Title"),
    ("how_found", "查找方式", "How found"),
    ("background", "背景", "Background"),
    ("causes", "原因", "Causes"),
    ("manifestations", "表现", "Manifestations"),
    ("direction", "努力方向", "Direction"),
    ("solutions", "解决措施", "Solutions"),
    ("opinions", "相关意见", "Linked opinions"),
    ("problem", "问题", "Problem"),
    ("measure", "整改措施", "Measure"),
    ("objective", "整改目标", "Objective"),
    ("responsible", "责任人", "Responsible"),
    ("deadline", "整改时限", "Deadline"),
    ("term", "整改类型", "Term"),
    ("steps", "整改进度", "Steps reached"),
    ("progress", "进展情况", "Progress"),
    ("announced_on", "向群众公布日期", "Announced to the masses"),
    ("filed", "报乡镇备案", "Filed with the township"),
    ("acknowledged_by", "备案确认人", "Acknowledged by"),
    ("cadre", "走访干部", "Cadre"),
    ("household", "户主", "Household"),
    ("group", "农户类别", "Household group"),
    ("demands", "群众诉求", "Demands"),
    ("id", "编号", "Id"),
    ("demand", "诉求编号", "Demand"),
    ("opinion", "转为意见", "Became opinion"),
    ("service_request", "转为代办", "Became service request"),
    ("matter", "代办事项", "Matter"),
    ("applicant", "申请人", "Applicant"),
    ("applied_on", "申请日期", "Applied on"),
    ("details", "具体诉求", "Details"),
    ("checklist", "一次性告知清单", "One-time checklist"),
    ("agent", "代办员", "Agent"),
    ("result", "办理结果", "Result"),
    ("closed_on", "办结日期", "Closed on"),
    ("published_on", "结果公开日期", "Result published on"),
    ("what", "实事内容", "What"),
    ("target_date", "计划完成日期", "Target date"),
    ("done_on", "完成日期", "Done on"),
    ("satisfaction", "群众满意度", "Satisfaction"),
    ("points", "批评与自我批评", "Criticism and self-criticism"),
    ("kind", "类别", "Kind"),
    ("appraisal", "民主评议", "Democratic appraisal"),
    ("category", "公开类别", "Category"),
    ("medium", "公开方式", "Medium"),
    ("content", "公开内容", "Content"),
    ("about", "相关记录", "Related records"),
    ("withdrawn", "已撤回", "Withdrawn"),
    ("by", "操作人", "By"),
    ("on", "日期", "On"),
    ("reason", "原因", "Reason"),
    ("author", "记录人", "Author"),
];

/// Where a field comes when a record is shown: fields in the order of the
/// kinds' declarations, unknown ones last.
pub fn field_position(field: &str) -> usize {
    FIELDS
        .iter()
        .position(|(f, ..)| *f == field)
        .unwrap_or(FIELDS.len())
}

/// The label of a record field; the field's own name if it has none.
pub fn field_label(field: &str, lang: Lang) -> &str {
    FIELDS
        .iter()
        .find(|(f, ..)| *f == field)
        .map_or(field, |(_, zh, en)| match lang {
            Lang::Zh => zh,
            Lang::En => en,
        })
}

fn label_of<T: Coded>(code: &str, lang: Lang) -> Option<&'static str> {
    T::from_code(code).map(|v| v.label(lang))
}

/// The label of a code stored in `field` (its last name, without indices) of
/// a record of `kind`; `None` if the field holds no code or the code is unknown.
/// For `steps` of a rectification and `appraisal` of a meeting, the code is a
/// key of the map (a step) or its value (a grade).
pub fn code_label(kind: RecordKind, field: &str, code: &str, lang: Lang) -> Option<&'static str> {
    use RecordKind as K;
    match (kind, field) {
        (K::Member, "education") => label_of::<Education>(code, lang),
        (K::StudySession | K::StudyEntry, "material") => label_of::<StudyMaterial>(code, lang),
        (K::StudySession, "format") => label_of::<SessionFormat>(code, lang),
        (K::StudyEntry, "mode") => label_of::<StudyMode>(code, lang),
        (K::StudyEntry, "kind") => label_of::<HelperKind>(code, lang),
        (K::Opinion, "channel") => label_of::<OpinionChannel>(code, lang),
        (K::Opinion, "source") => label_of::<SourceGroup>(code, lang),
        (K::Opinion, "area") => label_of::<OpinionArea>(code, lang),
        (K::Opinion, "four_winds") => label_of::<FourWinds>(code, lang),
        (K::Opinion, "status") => label_of::<OpinionStatus>(code, lang),
        (K::Problem, "how_found") => label_of::<HowFound>(code, lang),
        (K::Problem, "area") => label_of::<ProblemArea>(code, lang),
        (K::Rectification, "term") => label_of::<RectificationTerm>(code, lang),
        (K::Rectification, "steps" | "status") => label_of::<RectificationStatus>(code, lang),
        (K::Visit, "group") => label_of::<HouseholdGroup>(code, lang),
        (K::ServiceRequest, "matter") => label_of::<ServiceMatter>(code, lang),
        (K::ServiceRequest, "status") => label_of::<ServiceStatus>(code, lang),
        (K::PracticalThing, "status") => label_of::<ThingStatus>(code, lang),
        (K::PracticalThing, "satisfaction") => label_of::<Satisfaction>(code, lang),
        (K::OrgLifeMeeting, "kind") => label_of::<PointKind>(code, lang),
        (K::OrgLifeMeeting, "appraisal") => label_of::<AppraisalGrade>(code, lang),
        (K::Notice, "category") => label_of::<NoticeCategory>(code, lang),
        (K::Notice, "medium") => label_of::<NoticeMedium>(code, lang),
        _ => None,
    }
}
