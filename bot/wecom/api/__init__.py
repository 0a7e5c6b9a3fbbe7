"""Endpoint classes wechatpy lacks, in wechatpy's style: one small class per WeCom domain."""

from bot.wecom.api.groupmsg import WeComGroupMessage
from bot.wecom.api.kf_state import WeComKfServiceState
from bot.wecom.api.msgaudit import WeComMsgAudit
from bot.wecom.api.template_card import WeComTemplateCard
from bot.wecom.api.transfer import WeComCustomerTransfer

__all__ = [
    "WeComCustomerTransfer",
    "WeComGroupMessage",
    "WeComKfServiceState",
    "WeComMsgAudit",
    "WeComTemplateCard",
]
