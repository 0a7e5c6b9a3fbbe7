"""Built-in campaign templates: default timing, audience and the Chinese text that is installed into
the content library as a *submitted* item — it is sent only after compliance approves it there.

Placeholders filled at send time from facts, never from free text: {date} (交易日), {events} (from the
calendar feed), {holiday} (holiday name and dates), {reopen} (the next trading day).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Template:
    key: str
    slug: str
    title: str
    body: str
    timing: dict
    segment: str = "长尾"
    kind: str = "article"
    topics: tuple[str, ...] = ()
    steps: tuple[str, ...] = field(default=())


TEMPLATES: dict[str, Template] = {t.key: t for t in [
    Template(
        "after_close", "campaign-after-close", "收盘点评",
        "【{date} 收盘点评】今日A股已收盘。我们为您整理了当日市场概况、板块表现与明日关注要点，"
        "详情可在App资讯栏目查看。市场有风险，投资需谨慎；以上内容仅供参考，不构成投资建议。"
        "如有疑问，欢迎随时留言，您的专属服务顾问会及时回复。",
        {"kind": "trading_daily", "time": "15:30"}, topics=("市场资讯",)),
    Template(
        "ipo_reminder", "campaign-ipo-reminder", "新股申购提醒",
        "【新股申购提醒】{date} 可申购：{events}。申购前请确认您已开通相应市场权限并持有足够市值，"
        "中签后请留意缴款。新股上市后价格可能波动，存在破发风险，请根据自身风险承受能力理性参与。",
        {"kind": "event", "event": "ipo_subscription", "time": "09:00"}, topics=("新股",)),
    Template(
        "dividend_reminder", "campaign-dividend-reminder", "分红登记提醒",
        "【权益登记提醒】{events}。如您持有相关证券，请留意股权登记日与除权除息日安排。"
        "分红派息以上市公司公告为准；以上内容仅供参考，不构成投资建议。",
        {"kind": "event", "event": "record_date", "time": "09:00"}, topics=("分红",)),
    Template(
        "dormant_wakeup", "campaign-dormant-wakeup-1", "好久不见，为您准备了市场小结",
        "您好，好久没有联系了。近期市场有不少变化，我们整理了一份简明的市场小结和投资者教育资料，"
        "帮助您了解最新情况。账户登录、密码重置、风险测评更新等问题，都可以直接回复我。"
        "温馨提示：本公司工作人员不会索要您的交易密码，请谨防诈骗。",
        {"kind": "series", "time": "10:00", "every_sessions": 5,
         "steps": ["campaign-dormant-wakeup-1", "campaign-dormant-wakeup-2", "campaign-dormant-wakeup-3"]},
        segment="休眠", kind="education", topics=("投教",),
        steps=("campaign-dormant-wakeup-2", "campaign-dormant-wakeup-3")),
    Template(
        "dormant_wakeup_2", "campaign-dormant-wakeup-2", "投资者教育：认识风险与资产配置",
        "为您推荐一篇投资者教育文章：如何根据自身风险承受能力做好资产配置。了解不同产品的风险等级，"
        "比追逐短期涨跌更重要。如需更新风险测评或了解适合您的服务，欢迎回复咨询。",
        {"kind": "series"}, segment="休眠", kind="education", topics=("投教",)),
    Template(
        "dormant_wakeup_3", "campaign-dormant-wakeup-3", "账户服务提醒",
        "温馨提示：长期未使用的账户可能被列为休眠账户，再次使用前需要办理激活。如需了解激活流程，"
        "可直接回复“激活”，我们会一步步为您说明。本公司不会以任何理由要求您转账或提供密码。",
        {"kind": "series"}, segment="休眠", kind="education", topics=("账户服务",)),
    Template(
        "pre_holiday_repo", "campaign-pre-holiday-repo", "节前国债逆回购提醒",
        "【节前理财小贴士】{holiday}休市，{reopen} 恢复交易。节前最后交易日，部分投资者会关注国债逆回购等"
        "现金管理工具，其计息天数与资金可用日以交易所规则为准，收益率随市场变化、并非固定。"
        "请结合自身资金安排理性决策，如需了解操作步骤欢迎回复咨询。",
        {"kind": "pre_holiday", "time": "10:00", "sessions_before": 1}, topics=("现金管理",)),
    Template(
        "birthday", "campaign-birthday", "生日祝福",
        "今天是您的生日，祝您生日快乐，身体健康，万事顺意！感谢您一直以来的信任与支持，"
        "有任何需要，随时找我。",
        {"kind": "birthday", "time": "10:00"}, kind="script", topics=("关怀",)),
]}


def install_templates(library, author: str, *, submit: bool = True) -> list[str]:
    """Create the templates' items in the content library (submitted for review; never approved here).
    Existing slugs are left alone. Returns the slugs created."""
    created = []
    for template in TEMPLATES.values():
        if library.get_item(template.slug) is not None:
            continue
        version = library.create_item(slug=template.slug, kind=template.kind, title=template.title,
                                      body=template.body, author=author, source="jobs.templates",
                                      topics=list(template.topics))
        if submit:
            library.submit(version.id, by=author)
        created.append(template.slug)
    return created
