from wechatpy.client.api.base import BaseWeChatAPI


class WeComTemplateCard(BaseWeChatAPI):
    """Interactive approval cards (button_interaction) and their update after a click."""

    def send_button_card(self, agent_id, userid, task_id, title, description, buttons, quote=None):
        card = {
            "card_type": "button_interaction",
            "main_title": {"title": title[:36], "desc": ""},
            "sub_title_text": description,
            "task_id": task_id,
            "button_list": [{"text": b["text"], "style": b.get("style", 1), "key": b["key"]} for b in buttons],
        }
        if quote:
            card["quote_area"] = {"type": 0, "title": quote.get("title", ""), "quote_text": quote.get("text", "")}
        data = {"touser": userid, "msgtype": "template_card", "agentid": agent_id, "template_card": card}
        return self._post("message/send", data=data)

    def update_template_card(self, agent_id, userids, response_code, replace_name):
        data = {"userids": list(userids), "agentid": agent_id, "response_code": response_code,
                "button": {"replace_name": replace_name}}
        return self._post("message/update_template_card", data=data)
