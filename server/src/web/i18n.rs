//! The dashboard's own words, in Chinese (the default) and English.
//!
//! Only words of the dashboard itself live here: names of figures, pages,
//! buttons. Records' fields and codes are named by the model
//! (`massline_model::records::field_label`, `Coded::label`), never again here.

use massline_model::Lang;

/// `(key, 中文, English)` for every word of the dashboard.
const WORDS: &[(&str, &str, &str)] = &[
    ("app", "群众路线教育实践活动", "Mass line campaign"),
    ("overview", "全镇概览", "Township overview"),
    ("village_page", "村情况", "Village"),
    ("village", "村", "Village"),
    ("all_villages", "全部村", "All villages"),
    (
        "township_issued",
        "乡镇（发至各村）",
        "Township (to every village)",
    ),
    ("total", "合计", "Total"),
    ("ledgers", "台账", "Ledgers"),
    ("ledger_study", "党员学习台账", "Study ledger"),
    (
        "ledger_rectifications",
        "整改措施台账",
        "Rectification ledger",
    ),
    ("ledger_idle", "长期未参学党员台账", "Members not studying"),
    ("ledger_mobile", "流动党员台账", "Mobile members"),
    ("ledger_opinions", "征求意见台账", "Opinions ledger"),
    ("ledger_problems", "问题清单台账", "Problems ledger"),
    (
        "ledger_announce",
        "整改清单公示",
        "Rectification list for the masses",
    ),
    ("ledger_practical", "为民办实事台账", "Practical things"),
    ("ledger_services", "代办服务台账", "Service requests"),
    ("ledger_org_life", "组织生活会台账", "Org-life meetings"),
    ("ledger_sessions", "集中学习台账", "Study sessions"),
    ("s_with_absent", "有缺席", "With absentees"),
    ("c_absences", "缺席人员及原因", "Absent, and why"),
    (
        "c_centralized_minutes",
        "集中学习(分钟)",
        "Centralized study (minutes)",
    ),
    (
        "c_personal_minutes",
        "个人自学(分钟)",
        "Personal study (minutes)",
    ),
    ("c_missed", "缺席集中学习及原因", "Sessions missed, and why"),
    ("ledger_notices", "党务村务公开台账", "Public notices"),
    ("ledger_regulations", "制度建设台账", "Regulations"),
    ("ledger_listening", "征求意见会台账", "Listening meetings"),
    ("filings", "备案待确认", "Filings to acknowledge"),
    ("acknowledge", "确认备案", "Acknowledge filing"),
    (
        "filings_none",
        "没有待确认的备案",
        "No filing awaits acknowledgement",
    ),
    ("filing_done", "已确认备案", "Filing acknowledged"),
    ("issue", "上级点题", "Issue a problem"),
    ("purge", "彻底删除（应群众要求）", "Purge for good"),
    ("purge_reason", "删除原因", "Reason"),
    ("purge_confirm_title", "确认彻底删除", "Confirm the purge"),
    (
        "purge_confirm_text",
        "此记录将从服务器和所有手机上永久删除，无法恢复。审计日志只保留记录编号、类别、村、操作人、时间和原因。",
        "The record will be erased for good from the server and from every phone, and cannot be brought back. The audit log keeps only its id, kind, village, who, when and why.",
    ),
    ("purge_confirm_button", "确认彻底删除", "Purge it for good"),
    ("cancel", "取消", "Cancel"),
    ("purged_log", "彻底删除记录", "Purged records"),
    (
        "purged_notice",
        "此记录已被彻底删除",
        "This record was purged for good",
    ),
    ("purged_by", "删除人", "Purged by"),
    ("purged_at", "删除时间", "Purged on"),
    (
        "purged_none",
        "没有被彻底删除的记录",
        "No record was purged",
    ),
    ("bundles", "同步包导入", "Sync bundles"),
    (
        "bundle_file",
        "设备导出的同步包",
        "The device's bundle file",
    ),
    ("bundle_import", "导入", "Import"),
    (
        "bundle_help",
        "没有网络的设备可导出同步包（massline bundle export），由乡镇办公室在此导入，再把回执包带回设备导入。",
        "A device with no link exports a bundle (massline bundle export); the township office imports it here and takes the reply back to the device to import.",
    ),
    ("bundle_device", "设备", "Device"),
    ("bundle_accepted", "已接收修改", "Changes accepted"),
    ("bundle_refused", "被拒绝修改", "Changes refused"),
    ("bundle_pulled", "回执包含修改", "Changes in the reply"),
    (
        "bundle_more",
        "还有未带回的修改：请导入设备的下一个同步包。",
        "More changes wait: import the device's next bundle.",
    ),
    (
        "bundle_again",
        "此同步包此前已导入过，未重复保存任何内容；回执包与上次相同。",
        "This bundle was imported before: nothing was stored twice, and the reply is as before.",
    ),
    ("bundle_reply", "下载回执包", "Download the reply bundle"),
    ("bundle_refusal", "同步包被拒绝", "Bundle refused"),
    ("issue_button", "下发到村", "Issue to the village"),
    ("counted_by", "按", "By"),
    (
        "print_signature",
        "村党组织（盖章）    年  月  日",
        "Village Party organization (seal)    date",
    ),
    ("record_title", "记录", "Record"),
    (
        "print_problem",
        "问题对照检查表",
        "Problem control-inspection table",
    ),
    (
        "print_service_request",
        "为民服务一次性告知单",
        "Service one-time checklist",
    ),
    ("history", "修改记录", "History"),
    ("h_when", "时间", "When"),
    ("h_who", "修改人", "By"),
    ("h_what", "修改内容", "What changed"),
    ("h_created", "新建", "created"),
    ("kind", "类别", "Kind"),
    ("period", "统计期间", "Period"),
    ("period_month", "本月", "This month"),
    ("period_quarter", "本季度", "This quarter"),
    ("period_campaign", "活动以来", "Campaign to date"),
    ("status_filter", "筛选", "Show"),
    ("all", "全部", "All"),
    ("show", "查看", "Show"),
    ("as_of", "数据截至", "As of"),
    ("rows", "条", "rows"),
    ("rows_cut", "仅显示前", "Only the first"),
    ("export", "导出", "Export"),
    ("print", "打印", "Print"),
    ("logout", "退出", "Log out"),
    ("login", "登录", "Log in"),
    ("login_title", "工作台登录", "Dashboard login"),
    ("password", "密码", "Password"),
    ("login_link_title", "一次性登录链接", "One-time login link"),
    (
        "login_link_confirm",
        "使用此链接登录。链接只能使用一次。",
        "Log in with this link. It works only once.",
    ),
    (
        "login_failed",
        "编号或密码不正确。",
        "Wrong id or password.",
    ),
    ("switch_lang", "English", "中文"),
    (
        "not_by_period",
        "现状，不按期间",
        "current state, not by period",
    ),
    // Figures of the overview.
    ("f_members", "党员数", "Members"),
    ("f_phase", "活动环节", "Campaign phase"),
    ("not_started", "未开始", "not started"),
    ("behind_plan", "落后于方案", "behind the plan"),
    ("f_aged_60", "60岁以上", "Aged 60+"),
    ("f_studied", "参学党员", "Members who studied"),
    ("f_not_studied", "未参学党员", "Members who did not study"),
    ("f_avg_hours", "人均学时", "Average hours per member"),
    ("f_sessions", "集中学习次数", "Sessions held"),
    ("f_attendance", "出勤率", "Attendance"),
    ("f_opinions", "征求意见", "Opinions heard"),
    ("f_taken_up", "已列为问题或反馈", "Taken up"),
    ("f_answered", "已答复", "Answered"),
    ("f_problems", "查摆问题", "Problems"),
    ("f_measures", "整改措施", "Measures"),
    ("f_done", "已完成", "Done"),
    ("f_accepted", "群众认可", "Accepted"),
    ("f_overdue", "逾期", "Overdue"),
    ("f_unfiled", "未备案", "Not filed"),
    ("f_practical", "为民办实事", "Practical things"),
    ("f_practical_done", "已办结", "done"),
    ("f_practical_range", "应为3至5件", "3 to 5 expected"),
    ("f_org_life", "组织生活会", "Org-life meetings"),
    ("f_notices", "公开次数", "Notices published"),
    ("f_service_open", "代办未结", "Services open"),
    ("f_service_age", "最久(天)", "oldest (days)"),
    // Columns of ledgers the model has no field for.
    ("c_hours", "学时", "Hours"),
    ("c_last_study", "最近学习", "Last studied"),
    ("c_sessions_attended", "参加集中学习", "Sessions attended"),
    ("c_entries", "个人学习次数", "Own study entries"),
    ("c_overdue_days", "逾期天数", "Days overdue"),
    ("c_record", "记录编号", "Record"),
    ("c_count", "数量", "Count"),
    ("c_share", "比例", "Share"),
    ("c_age", "年龄", "Age"),
    ("c_days_since", "未学习天数", "Days since"),
    ("c_measures", "整改措施数", "Measures"),
    ("c_days_open", "办理天数", "Days open"),
    ("c_present", "到会", "Present"),
    ("c_absent", "缺席", "Absent"),
    ("c_opinions_heard", "收集意见数", "Opinions heard"),
    // Filters of ledgers the model has no code for.
    ("s_studied", "已参学", "Studied"),
    ("s_not_studied", "未参学", "Did not study"),
    ("s_overdue", "逾期", "Overdue"),
    ("s_unfiled", "未备案", "Not filed"),
    ("s_done", "已完成(含群众认可)", "Done (and accepted)"),
    ("s_idle_30", "30天以上未学习", "Not studied in 30 days"),
    ("s_idle_90", "90天以上未学习", "Not studied in 90 days"),
    ("s_idle_180", "180天以上未学习", "Not studied in 180 days"),
    ("s_open", "未办结", "Open"),
    (
        "s_unpublished",
        "已办结未公开结果",
        "Done, result not published",
    ),
    ("s_appraised", "已开展民主评议", "With appraisal"),
    ("s_not_appraised", "未开展民主评议", "Without appraisal"),
    ("s_announced", "已公布", "Announced"),
    ("s_not_announced", "未公布", "Not announced"),
    // Charts.
    (
        "chart_study_weeks",
        "各村每周学习时长(分钟)",
        "Study minutes per village per week",
    ),
    ("chart_measures", "各村整改措施状态", "Measures by status"),
    ("chart_channels", "各村征求意见渠道", "Opinions by channel"),
    (
        "chart_four_winds",
        "各村意见涉及“四风”",
        "Opinions by \"four winds\"",
    ),
    ("week_of", "周", "week of"),
    // Errors.
    ("e_forbidden", "无权查看", "Not allowed"),
    ("e_not_found", "未找到", "Not found"),
    ("e_bad_request", "请求有误", "Bad request"),
    ("e_too_many", "尝试次数过多", "Too many attempts"),
    ("e_too_large", "上传内容过大", "Upload too large"),
    ("e_busy", "正在上传其他文件", "Another upload under way"),
    (
        "e_busy_text",
        "另一个同步包正在上传，请稍后再试。",
        "Another sync bundle is being uploaded: try again in a moment.",
    ),
    ("e_server", "服务器错误", "Server error"),
    ("e_gone", "链接已失效", "Link no longer valid"),
    ("back_home", "返回首页", "Back to the start page"),
    (
        "e_no_dashboard",
        "党员不使用工作台；请在手机上查看本人记录。",
        "Party members have no dashboard; their own records are on their phones.",
    ),
    (
        "e_csrf",
        "表单已过期或来源不明，已拒绝。请刷新页面后重试。",
        "The form was refused: its token is missing or wrong. Reload the page and try again.",
    ),
];

/// The dashboard's words in one language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Words(pub Lang);

impl Words {
    /// The word for `key`; the key itself if there is none (shows at once
    /// on the page, and the test of every template's keys catches it).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        WORDS
            .iter()
            .find(|(k, ..)| *k == key)
            .map_or(key, |(_, zh, en)| match self.0 {
                Lang::Zh => zh,
                Lang::En => en,
            })
    }

    /// `zh` or `en`, for `<html lang>` and links.
    pub fn code(&self) -> &'static str {
        match self.0 {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Whether `key` has words.
    pub fn has(key: &str) -> bool {
        WORDS.iter().any(|(k, ..)| *k == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_template_key_has_words() {
        let mut keys: Vec<_> = WORDS.iter().map(|(k, ..)| *k).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key is declared twice");
        let templates = [
            include_str!("../../templates/base.html"),
            include_str!("../../templates/overview.html"),
            include_str!("../../templates/village.html"),
            include_str!("../../templates/ledger.html"),
            include_str!("../../templates/print.html"),
            include_str!("../../templates/printed.html"),
            include_str!("../../templates/record_print.html"),
            include_str!("../../templates/filings.html"),
            include_str!("../../templates/issue.html"),
            include_str!("../../templates/purge_confirm.html"),
            include_str!("../../templates/purged.html"),
            include_str!("../../templates/record_purged.html"),
            include_str!("../../templates/bundles.html"),
            include_str!("../../templates/record.html"),
            include_str!("../../templates/login.html"),
            include_str!("../../templates/message.html"),
            include_str!("../../templates/table.html"),
        ];
        for t in templates {
            for part in t.split("t.get(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                assert!(Words::has(key), "no words for {key:?}");
            }
        }
    }
}
