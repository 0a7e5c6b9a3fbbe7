from wechatpy.client.api.base import BaseWeChatAPI


class WeComMsgAudit(BaseWeChatAPI):
    """会话内容存档 HTTP endpoints (the chat data itself comes through the finance SDK)."""

    def get_permit_user_list(self, type_=None):
        data = {} if type_ is None else {"type": type_}
        return self._post("msgaudit/get_permit_user_list", data=data)

    def check_single_agree(self, pairs):
        # The real field name is misspelt by WeCom: exteranalopenid.
        info = [{"userid": u, "exteranalopenid": e} for u, e in pairs]
        return self._post("msgaudit/check_single_agree", data={"info": info})
