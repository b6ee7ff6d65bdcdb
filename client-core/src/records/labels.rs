//! Chinese and English names of record fields, for any screen that shows them.

use crate::codes::Lang;

/// `(field, 中文, English)` for every field of every record kind.
const FIELDS: &[(&str, &str, &str)] = &[
    ("member", "党员", "Member"),
    ("date", "日期", "Date"),
    ("material", "学习内容", "Material"),
    ("topic", "学习题目", "Topic"),
    ("mode", "学习方式", "Mode"),
    ("helper", "帮学人", "Helper"),
    ("minutes", "时长(分钟)", "Minutes"),
    ("reflection", "学习体会", "Reflection"),
    ("channel", "征求渠道", "Channel"),
    ("source", "意见来源", "Source"),
    ("area", "方面", "Area"),
    ("four_winds", "“四风”问题", "\"Four winds\""),
    ("text", "内容", "Text"),
    ("anonymous", "匿名", "Anonymous"),
    ("raised_by", "提出人", "Raised by"),
    ("status", "状态", "Status"),
    ("answer", "反馈答复", "Answer"),
    ("problem", "问题", "Problem"),
    ("measure", "整改措施", "Measure"),
    ("objective", "整改目标", "Objective"),
    ("responsible", "责任人", "Responsible"),
    ("deadline", "整改时限", "Deadline"),
    ("term", "整改类型", "Term"),
    ("progress", "进展情况", "Progress"),
    ("announced_on", "向群众公布日期", "Announced to the masses"),
    ("filed", "报乡镇备案", "Filed with the township"),
];

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
