from wechatpy.client.api.base import BaseWeChatAPI


class WeComCustomerTransfer(BaseWeChatAPI):
    """客户继承: in-service and resigned transfers (wechatpy only has the retired `transfer`)."""

    def transfer_customer(self, handover_userid, takeover_userid, external_userids, transfer_success_msg=None):
        data = {"handover_userid": handover_userid, "takeover_userid": takeover_userid,
                "external_userid": list(external_userids)}
        if transfer_success_msg:
            data["transfer_success_msg"] = transfer_success_msg
        return self._post("externalcontact/transfer_customer", data=data)

    def transfer_result(self, handover_userid, takeover_userid, cursor=""):
        data = {"handover_userid": handover_userid, "takeover_userid": takeover_userid, "cursor": cursor}
        return self._post("externalcontact/transfer_result", data=data)

    def resigned_transfer_customer(self, handover_userid, takeover_userid, external_userids):
        data = {"handover_userid": handover_userid, "takeover_userid": takeover_userid,
                "external_userid": list(external_userids)}
        return self._post("externalcontact/resigned/transfer_customer", data=data)

    def resigned_transfer_result(self, handover_userid, takeover_userid, cursor=""):
        data = {"handover_userid": handover_userid, "takeover_userid": takeover_userid, "cursor": cursor}
        return self._post("externalcontact/resigned/transfer_result", data=data)

    def get_unassigned_list(self, cursor="", page_size=1000):
        return self._post("externalcontact/get_unassigned_list", data={"cursor": cursor, "page_size": page_size})
