from wechatpy.client.api.base import BaseWeChatAPI


class WeComGroupMessage(BaseWeChatAPI):
    """企业群发 tracking endpoints (wechatpy only has the retired get_group_msg_result)."""

    def add_msg_template(self, data):
        return self._post("externalcontact/add_msg_template", data=data)

    def get_groupmsg_list_v2(self, chat_type, start_time, end_time, creator=None, cursor="", limit=100):
        data = {"chat_type": chat_type, "start_time": start_time, "end_time": end_time,
                "cursor": cursor, "limit": limit}
        if creator:
            data["creator"] = creator
        return self._post("externalcontact/get_groupmsg_list_v2", data=data)

    def get_groupmsg_task(self, msgid, cursor="", limit=1000):
        return self._post("externalcontact/get_groupmsg_task", data={"msgid": msgid, "cursor": cursor, "limit": limit})

    def get_groupmsg_send_result(self, msgid, userid, cursor="", limit=1000):
        data = {"msgid": msgid, "userid": userid, "cursor": cursor, "limit": limit}
        return self._post("externalcontact/get_groupmsg_send_result", data=data)

    def remind_groupmsg_send(self, msgid):
        return self._post("externalcontact/remind_groupmsg_send", data={"msgid": msgid})

    def cancel_groupmsg_send(self, msgid):
        return self._post("externalcontact/cancel_groupmsg_send", data={"msgid": msgid})

    def send_welcome_msg(self, welcome_code, text=None, attachments=None):
        data = {"welcome_code": welcome_code}
        if text:
            data["text"] = {"content": text}
        if attachments:
            data["attachments"] = attachments
        return self._post("externalcontact/send_welcome_msg", data=data)
