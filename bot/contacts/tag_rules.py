"""The tag rules: the one readable place that says which client gets which tag.

Every rule is a SQL predicate over one contact `c` (table contact) and its CRM record `k` (table
crm_client, LEFT JOINed on external_userid, so every `k.*` is NULL for a contact the CRM does not know).
Thresholds are bound parameters computed from the `[contacts]` settings and today's date (Beijing), so
nothing here is a magic number. A predicate that is NULL counts as false.

In an *exclusive* group the first matching rule wins (compiled to one CASE), so each contact gets at
most one tag of the group; in the other groups every matching rule adds its tag.

Lifecycle (生命周期), in order — "last activity" is the last trade date, or the first deposit date for a
client who never traded:
  新访问未开户  no CRM record, or the CRM has no account open date
  未入金        account open, never funded (no first deposit date)
  流失          last activity longer ago than lost_after_days (365)
  衰退期        last activity longer ago than declining_after_days (90)
  核心粘性      active, trades_12m >= core_min_trades_12m (24) and assets >= core_min_assets (100k)
  活跃          everyone else with an account (funded, active within declining_after_days)

RFM (客户价值, funded clients only): R high = traded within rfm_recent_days (90); F high = trades_12m >=
rfm_frequent_trades_12m (12); M high = total assets >= rfm_monetary_assets (100k). The eight classic
classes follow from (R, F, M): 重要价值 (高高高), 重要保持 (低高高), 重要发展 (高低高), 重要挽留 (低低高),
一般价值 (高高低), 一般保持 (低高低), 一般发展 (高低低), 一般挽留 (低低低).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.contacts.settings import ContactsSettings


@dataclass(frozen=True)
class Rule:
    tag: str
    when: str
    meaning: str


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    exclusive: bool = False


HAS_CRM = "k.client_no IS NOT NULL"
FUNDED = "k.first_deposit_date IS NOT NULL"
LAST_ACTIVITY = "COALESCE(k.last_trade_date, k.first_deposit_date)"

ASSET_TIERS = RuleGroup("资产层级", (
    Rule("有效户", "k.total_assets >= :effective_min", "总资产 ≥ effective_min_assets"),
    Rule("沉睡", "k.total_assets < :effective_min", "总资产 < effective_min_assets"),
    Rule("长尾", "k.total_assets < :long_tail_max", "总资产 < long_tail_max_assets"),
    Rule("投顾", "k.total_assets >= :advised_min", "总资产 ≥ advised_min_assets"),
))

ACCOUNT_STATE = RuleGroup("账户状态", (
    Rule("休眠", "k.securities_value = 0 AND k.cash_balance <= :dormant_cash "
                 "AND COALESCE(k.last_trade_date, k.open_date) < :dormant_cutoff",
         "证券市值 0、现金 ≤ dormant_max_cash、dormant_years_without_trade 年无交易"),
))

LIFECYCLE = RuleGroup("生命周期", (
    Rule("新访问未开户", "k.client_no IS NULL OR k.open_date IS NULL", "无 CRM 记录或未开户"),
    Rule("未入金", "k.first_deposit_date IS NULL", "已开户、从未入金"),
    Rule("流失", f"{LAST_ACTIVITY} < :lost_cutoff", "最后活动早于 lost_after_days 天前"),
    Rule("衰退期", f"{LAST_ACTIVITY} < :declining_cutoff", "最后活动早于 declining_after_days 天前"),
    Rule("核心粘性", "k.trades_12m >= :core_trades AND k.total_assets >= :core_assets", "活跃且交易频繁、资产达标"),
    Rule("活跃", "1 = 1", "其余已入金客户"),
), exclusive=True)

_R, _F, _M = "k.last_trade_date >= :rfm_recent_cutoff", "k.trades_12m >= :rfm_trades", "k.total_assets >= :rfm_assets"
RFM = RuleGroup("客户价值", (
    Rule("重要价值客户", f"{FUNDED} AND {_R} AND {_F} AND {_M}", "R高 F高 M高"),
    Rule("重要保持客户", f"{FUNDED} AND {_F} AND {_M}", "R低 F高 M高"),
    Rule("重要发展客户", f"{FUNDED} AND {_R} AND {_M}", "R高 F低 M高"),
    Rule("重要挽留客户", f"{FUNDED} AND {_M}", "R低 F低 M高"),
    Rule("一般价值客户", f"{FUNDED} AND {_R} AND {_F}", "R高 F高 M低"),
    Rule("一般保持客户", f"{FUNDED} AND {_F}", "R低 F高 M低"),
    Rule("一般发展客户", f"{FUNDED} AND {_R}", "R高 F低 M低"),
    Rule("一般挽留客户", FUNDED, "R低 F低 M低"),
), exclusive=True)

AGE = RuleGroup("年龄段", (
    Rule("Z世代", "k.birth_year >= :genz_min_birth", "出生年份 ≥ gen_z_min_birth_year"),
    Rule("银发", "k.birth_year <= :silver_max_birth", "年龄 ≥ silver_min_age"),
    Rule("初老银发", "k.birth_year BETWEEN :early_silver_min_birth AND :silver_max_birth",
         "年龄 silver_min_age–early_silver_max_age"),
    Rule("高龄", "k.birth_year <= :elderly_max_birth", "年龄 ≥ elderly_min_age"),
))

RISK = RuleGroup("风险等级", tuple(
    Rule(level, f"k.risk_level = '{level}'", f"风险承受能力 {level}") for level in ("C1", "C2", "C3", "C4", "C5")
), exclusive=True)

RULE_GROUPS: tuple[RuleGroup, ...] = (ASSET_TIERS, ACCOUNT_STATE, LIFECYCLE, RFM, AGE, RISK)


def rule_params(settings: ContactsSettings, today: date) -> dict[str, Any]:
    """The bound parameters of the predicates above, from settings and today's (Beijing) date."""
    year = today.year
    return {
        "effective_min": settings.effective_min_assets,
        "long_tail_max": settings.long_tail_max_assets,
        "advised_min": settings.advised_min_assets,
        "dormant_cash": settings.dormant_max_cash,
        "dormant_cutoff": _years_before(today, settings.dormant_years_without_trade),
        "declining_cutoff": today - timedelta(days=settings.declining_after_days),
        "lost_cutoff": today - timedelta(days=settings.lost_after_days),
        "core_trades": settings.core_min_trades_12m,
        "core_assets": settings.core_min_assets,
        "rfm_recent_cutoff": today - timedelta(days=settings.rfm_recent_days),
        "rfm_trades": settings.rfm_frequent_trades_12m,
        "rfm_assets": settings.rfm_monetary_assets,
        "genz_min_birth": settings.gen_z_min_birth_year,
        "silver_max_birth": year - settings.silver_min_age,
        "early_silver_min_birth": year - settings.early_silver_max_age,
        "elderly_max_birth": year - settings.elderly_min_age,
    }


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def describe() -> list[dict[str, str]]:
    """The rules as rows (for docs and `advisor-bot contacts rules`)."""
    return [{"group": g.name, "tag": r.tag, "meaning": r.meaning, "exclusive": str(g.exclusive)}
            for g in RULE_GROUPS for r in g.rules]
