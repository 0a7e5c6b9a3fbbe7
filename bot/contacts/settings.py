"""The `[contacts]` settings section. Every threshold of the tag rules and inheritance lives here;
defaults are the industry figures from shared/domain.md."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ContactsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # WeCom app with 客户联系 permission used for contact, tag and transfer calls ("" = first app of
    # kind "contacts", else of kind "app").
    wecom_app: str = ""

    # -- asset tiers (yuan) ------------------------------------------------------------------
    effective_min_assets: float = Field(10_000, ge=0)      # 有效户 >= ; 沉睡 below
    long_tail_max_assets: float = Field(50_000, ge=0)      # 长尾 <
    advised_min_assets: float = Field(500_000, ge=0)       # 投顾 >=
    # -- 休眠 dormant ------------------------------------------------------------------------
    dormant_max_cash: float = Field(100, ge=0)
    dormant_years_without_trade: int = Field(3, ge=1)
    # -- lifecycle (days since last trade, or since the first deposit if never traded) ---------
    declining_after_days: int = Field(90, ge=1)           # 活跃/核心粘性 within, 衰退期 after
    lost_after_days: int = Field(365, ge=1)               # 流失 after
    core_min_trades_12m: int = Field(24, ge=0)            # 核心粘性: also this many trades ...
    core_min_assets: float = Field(100_000, ge=0)         # ... and these assets
    # -- RFM ---------------------------------------------------------------------------------
    rfm_recent_days: int = Field(90, ge=1)                # R high: traded within
    rfm_frequent_trades_12m: int = Field(12, ge=0)        # F high: trades in 12 months >=
    rfm_monetary_assets: float = Field(100_000, ge=0)     # M high: total assets >=
    # -- age segments (by birth year, Beijing calendar year) ------------------------------------
    silver_min_age: int = Field(60, ge=1)                 # 银发 >=
    early_silver_max_age: int = Field(69, ge=1)           # 初老银发 silver_min_age..this
    elderly_min_age: int = Field(70, ge=1)                # 高龄 >=
    gen_z_min_birth_year: int = Field(1995, ge=1900)      # Z世代 born in or after

    # -- customer inheritance --------------------------------------------------------------------
    central_ops_userid: str = ""            # the central operations account (集约化运营) for long-tail clients
    advisor_capacity: int = Field(300, ge=1)  # clients per advisor
    transfers_per_client_90d: int = Field(2, ge=1)  # WeCom's limit
    transfer_batch_size: int = Field(100, ge=1, le=100)
    # Welcome message (欢迎语) sent when a client adds a member: the approved content item with this slug;
    # "" sends none. It passes the pre-send check like every outbound message.
    welcome_content: str = "script-welcome"
    transfer_success_msg: str = Field("您好，您的专属服务顾问已更换，后续将由新顾问继续为您服务。", max_length=200)
    inherited_group: str = Field("客户继承", max_length=30)

    # -- WeCom tag sync --------------------------------------------------------------------------
    tag_sync_rate_per_minute: int = Field(600, ge=1)   # mark_tag calls (token bucket, shared via Redis)
    tag_sync_burst: int = Field(50, ge=1)
    tag_sync_batch: int = Field(2000, ge=1)            # (contact, owner) pairs per sync run
    max_corp_tags: int = Field(3000, ge=1)

    # -- CRM import --------------------------------------------------------------------------
    import_chunk_rows: int = Field(20_000, ge=100)
    import_max_reported_errors: int = Field(1000, ge=1)
    # -- tag recompute (PostgreSQL work_mem for its set operations) ------------------------------
    recompute_work_mem_mb: int = Field(256, ge=4, le=4096)
