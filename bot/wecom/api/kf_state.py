from wechatpy.client.api.base import BaseWeChatAPI


class WeComKfServiceState(BaseWeChatAPI):
    """微信客服 session state, with the servicer list the handoff needs."""

    def get(self, open_kfid, external_userid):
        return self._post("kf/service_state/get", data={"open_kfid": open_kfid, "external_userid": external_userid})

    def trans(self, open_kfid, external_userid, service_state, servicer_userid=None):
        data = {"open_kfid": open_kfid, "external_userid": external_userid, "service_state": service_state}
        if servicer_userid:
            data["servicer_userid"] = servicer_userid
        return self._post("kf/service_state/trans", data=data)

    def servicer_list(self, open_kfid):
        return self._get("kf/servicer/list", params={"open_kfid": open_kfid})
