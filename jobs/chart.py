"""The outcome chart: cumulative reply and reactivation rates by day since assignment, treated vs
control (matplotlib, Agg). Chinese labels when a CJK font is installed, English otherwise."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from jobs.models import CONTROL, TREATED, CampaignMember

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei",
             "Source Han Sans SC", "Microsoft YaHei", "AR PL UMing CN")
LABELS = {
    True: {"reply": "回复率", "react": "激活率（交易）", "day": "推送后天数", TREATED: "触达组", CONTROL: "对照组"},
    False: {"reply": "Reply rate", "react": "Reactivation (trade)", "day": "Days since push", TREATED: "Treated",
            CONTROL: "Control"},
}


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def _curves(rows, days: int) -> dict:
    out = {}
    for arm in (TREATED, CONTROL):
        members = [(a, r, x) for g, a, r, x in rows if g == arm]
        n = len(members) or 1
        out[arm] = {
            "reply": [sum(1 for a, r, _ in members if r is not None and (r - a).days <= d) / n for d in range(days + 1)],
            "react": [sum(1 for a, _, x in members if x is not None and (x - a).days <= d) / n for d in range(days + 1)],
        }
    return out


def write_chart(runtime, settings, campaign_id: int, slug: str, path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = CampaignMember.__table__
    with runtime.session_factory() as session:
        rows = session.execute(select(m.c.arm, m.c.assigned_at, m.c.replied_at, m.c.reactivated_at)
                               .where(m.c.campaign_id == campaign_id)).all()
    days = settings.outcome_window_days
    curves = _curves(rows, days)
    font = _cjk_font()
    labels = LABELS[font is not None]
    if font:
        plt.rcParams["font.sans-serif"] = [font]
        plt.rcParams["axes.unicode_minus"] = False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for ax, metric in zip(axes, ("reply", "react")):
        for arm, style in ((TREATED, "-o"), (CONTROL, "--s")):
            ax.plot(range(days + 1), [v * 100 for v in curves[arm][metric]], style, label=labels[arm], markersize=3)
        ax.set_title(f"{slug}: {labels[metric]}")
        ax.set_xlabel(labels["day"])
        ax.set_ylabel("%")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return str(path)
