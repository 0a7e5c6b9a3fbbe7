/* Chat-toolbar sidebar: WeCom JS-SDK (wx.config + wx.agentConfig) -> getCurExternalContact ->
   the client's suggestions -> sendChatMessage after the server approved the text. */
(function () {
  "use strict";
  var root = document.getElementById("sidebar");
  var status = document.getElementById("sidebar-status");
  var body = document.getElementById("sidebar-body");
  if (!root || !status) { return; }
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var API = ["getCurExternalContact", "sendChatMessage"];

  function say(text, bad) { status.textContent = text; status.className = bad ? "flash flash-error" : "muted"; }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) { throw new Error(j.message || r.status); } return j; }); });
  }

  function loadClient(externalUserId) {
    var url = root.dataset.clientUrl.replace("__ID__", encodeURIComponent(externalUserId));
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.status === 403) { throw new Error("这位客户不属于您，无法查看建议"); }
      if (!r.ok) { throw new Error("加载建议失败（" + r.status + "）"); }
      return r.text();
    }).then(function (html) { body.innerHTML = html; say("已加载当前客户的建议"); });
  }

  function send(button) {
    var li = button.closest(".suggestion");
    var text = li.querySelector(".reply-text").value.trim();
    if (!text) { say("回复内容不能为空", true); return; }
    button.disabled = true;
    var url = root.dataset.sendUrl.replace(/\/0\/send$/, "/" + button.dataset.send + "/send");
    fetch(url, { method: "POST", credentials: "same-origin",
                 headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
                 body: JSON.stringify({ text: text }) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) { throw new Error(j.message || r.status); } return j; }); })
      .then(function (approved) {
        if (!approved.text) { li.remove(); say(approved.message || "已发送"); return; }
        window.wx.invoke("sendChatMessage", { msgtype: "text", text: { content: approved.text } }, function (res) {
          if (res.err_msg === "sendChatMessage:ok") { li.remove(); say("已发送到聊天窗口"); }
          else { button.disabled = false; say("企业微信未能发送：" + res.err_msg, true); }
        });
      })
      .catch(function (e) { button.disabled = false; say(e.message, true); });
  }

  body.addEventListener("click", function (ev) {
    if (ev.target.matches("[data-send]")) { send(ev.target); }
  });

  if (!window.wx) { say("请在企业微信的客户聊天工具栏中打开此页面", true); return; }
  var pageUrl = location.href.split("#")[0];
  getJSON(root.dataset.configUrl + "?url=" + encodeURIComponent(pageUrl)).then(function (cfg) {
    window.wx.config({ beta: true, debug: false, appId: cfg.corpid, timestamp: cfg.timestamp,
                       nonceStr: cfg.nonceStr, signature: cfg.signature, jsApiList: API });
    window.wx.ready(function () {
      window.wx.agentConfig({
        corpid: cfg.corpid, agentid: cfg.agentid, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr,
        signature: cfg.agentSignature, jsApiList: API,
        success: function () {
          window.wx.invoke("getCurExternalContact", {}, function (res) {
            if (res.err_msg !== "getCurExternalContact:ok") { say("请在与客户的聊天窗口中打开", true); return; }
            loadClient(res.userId).catch(function (e) { say(e.message, true); });
          });
        },
        fail: function (res) { say("企业微信授权失败：" + (res && res.errMsg || ""), true); }
      });
    });
    window.wx.error(function (res) { say("企业微信配置失败：" + (res && res.errMsg || ""), true); });
  }).catch(function (e) { say(e.message, true); });
})();
