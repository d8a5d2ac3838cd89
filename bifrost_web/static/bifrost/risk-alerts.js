// Live risk and compliance alerts on the portal's risk pages.
//
// A list marked with data-alerts-socket opens that websocket (bifrost_web.risk.consumers) and
// applies each pushed event: "raised" adds the alert, "bumped" updates it (occurrences, message,
// severity), "acknowledged" marks it. When the socket cannot be opened or drops, the list is
// refreshed from data-alerts-poll every 30 s instead, and the socket is tried again with a
// growing pause; once it is back, polling stops. Close code 4401 means the session is gone.
(function () {
  "use strict";
  var list = document.querySelector("[data-alerts-socket]");
  if (!list) { return; }
  var status = document.getElementById(list.dataset.alertsStatus || "");
  var portfolio = list.dataset.portfolio ? Number(list.dataset.portfolio) : null;
  var household = list.dataset.household ? Number(list.dataset.household) : null;
  var openOnly = list.dataset.openOnly === "true";
  var ackUrl = list.dataset.ackUrl || "";  // ends in /0/ack/: 0 is replaced by the alert id
  var csrfInput = document.querySelector("[name=csrfmiddlewaretoken]");
  var baseTitle = document.title;
  var pollTimer = null;
  var retryMs = 2000;

  function setStatus(text) { if (status) { status.textContent = text; } }

  function concerns(alert) {
    if (portfolio === null) { return true; }
    return alert.portfolio === portfolio || (household !== null && alert.household === household);
  }

  function item(alert) {
    var li = document.createElement("li");
    li.className = alert.severity;
    li.dataset.alertId = String(alert.id);
    li.dataset.open = alert.acknowledged ? "0" : "1";
    li.appendChild(document.createTextNode("[" + alert.severity + "] " + alert.message + " "));
    var meta = document.createElement("small");
    meta.textContent = "\u00d7" + alert.occurrences + " \u00b7 " + alert.last_seen;
    li.appendChild(meta);
    li.appendChild(document.createTextNode(" "));
    if (alert.acknowledged) {
      var done = document.createElement("small");
      done.textContent = "acknowledged";
      li.appendChild(done);
    } else if (ackUrl && csrfInput) {
      var form = document.createElement("form");
      form.method = "post";
      form.action = ackUrl.replace(/\/0\/ack\/$/, "/" + alert.id + "/ack/");
      form.style.display = "inline";
      var token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrfInput.value;
      var button = document.createElement("button");
      button.type = "submit";
      button.className = "ack";
      button.textContent = "Acknowledge";
      form.appendChild(token);
      form.appendChild(button);
      li.appendChild(form);
    }
    return li;
  }

  function rows() { return list.querySelectorAll("li[data-alert-id]"); }

  function refreshTitle() {
    var open = list.querySelectorAll('li[data-open="1"]').length;
    document.title = (open ? "(" + open + ") " : "") + baseTitle;
    var empty = list.querySelector("li.empty");
    if (empty) { empty.hidden = rows().length > 0; }
  }

  function apply(event, alert) {
    if (!concerns(alert)) { return; }
    var existing = list.querySelector('li[data-alert-id="' + alert.id + '"]');
    if (alert.acknowledged && openOnly) {
      if (existing) { existing.remove(); }
    } else if (existing) {
      existing.replaceWith(item(alert));
    } else {
      list.insertBefore(item(alert), list.firstChild);
    }
    list.dataset.lastEvent = event + ":" + alert.id;
    refreshTitle();
  }

  function poll() {
    fetch(list.dataset.alertsPoll, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var alerts = Array.isArray(body) ? body : body.alerts;
        var keep = {};
        alerts.filter(concerns).forEach(function (a) { keep[a.id] = true; });
        rows().forEach(function (li) {  // an alert gone from the open list was acknowledged elsewhere
          if (!keep[li.dataset.alertId] && li.dataset.open === "1") { li.remove(); }
        });
        alerts.slice().reverse().forEach(function (a) { apply("polled", a); });
      })
      .catch(function () { setStatus("offline, retrying"); });
  }

  function startPolling() {
    if (pollTimer === null) {
      setStatus("polling every 30 s");
      poll();
      pollTimer = setInterval(poll, 30000);
    }
  }

  function connect() {
    if (!("WebSocket" in window)) { startPolling(); return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + window.location.host + list.dataset.alertsSocket);
    } catch (error) {
      startPolling();
      return;
    }
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.event === "ready") {
        retryMs = 2000;
        if (pollTimer !== null) { clearInterval(pollTimer); pollTimer = null; poll(); }
        setStatus("live");
        return;
      }
      apply(data.event, data.alert);
    };
    socket.onclose = function (closed) {
      if (closed.code === 4401) { setStatus("signed out"); return; }
      startPolling();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 60000);
    };
  }

  refreshTitle();
  connect();
})();
