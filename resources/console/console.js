// The room page of the invigilation console: polls /console/api/room every 2 s and
// renders one tile per seat. Every value from the server goes in through textContent,
// never innerHTML. Texts come translated from the page (data-config).
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("config").dataset.config);
  const T = config.text;
  const POLL_MS = 2000;
  const state = { view: null, filter: "all", selected: null, lastOk: 0, busy: false, group: false };
  const examSelect = document.getElementById("exam");
  const roomSelect = document.getElementById("room");
  const search = document.getElementById("search");
  const tilesBox = document.getElementById("tiles");
  const countsBox = document.getElementById("counts");
  const detail = document.getElementById("detail");
  const notice = document.getElementById("notice");
  // The detail panel is three parts: the seat's facts (rebuilt by every poll), the dialog
  // of an action (never rebuilt by a poll: a reason being typed keeps its text and focus,
  // an issued code stays readable) and the close button. The dialog belongs to one seat
  // and is cleared when another seat is chosen.
  const detailInfo = el("div", { class: "detail-info" });
  const dialogBox = el("div", { id: "dialog", "aria-live": "polite" });
  const closeButton = el("button", {
    type: "button", class: "close", on: { click: () => select(null) },
  }, T.close);
  detail.replaceChildren(detailInfo, dialogBox, closeButton);

  function select(candidateId) {
    if (candidateId !== state.selected || state.group) { dialogBox.replaceChildren(); images.clear(); }
    state.group = false;
    state.selected = candidateId;
    render();
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else node[k] = v;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const clockFmt = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false,
  });
  function clock(ms) { return ms ? clockFmt.format(new Date(ms)) : "—"; }
  function ago(ms, now) {
    if (!ms) return "—";
    const s = Math.max(0, Math.round((now - ms) / 1000));
    return s < 120 ? `${s} ${T.seconds_ago}` : `${Math.round(s / 60)} ${T.minutes_ago}`;
  }
  function messageState(m) {
    return m.read_at_ms ? T.message_read : m.delivered_at_ms ? T.message_delivered : T.message_sent;
  }
  // Minutes with at most one decimal (0.1 minute = 6 s): "15", "7.5".
  function minutes(ms) { return String(Math.round(ms / 6000) / 10); }
  // "1 次" / "3 次"; in English "once" / "3 times", never "1 times".
  function count(n) { return n === 1 ? T.count_one : T.count_many.replace("{n}", n); }

  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return s < 120 ? `${s} ${T.seconds}` : `${Math.round(s / 60)} ${T.minutes}`;
  }

  function matches(tile) {
    const q = search.value.trim();
    if (q && !(tile.name.includes(q) || tile.student_no.includes(q) || tile.seat === q)) return false;
    switch (state.filter) {
      case "all": return true;
      case "absent": return tile.attendance === "absent";
      case "attention": return needsAttention(tile);
      default: return tile.state === state.filter;
    }
  }
  function needsAttention(t) {
    return t.state === "held" || t.state === "offline" || t.identity === "failed" ||
      t.integrity_blocking > 0 || t.integrity_blind > 0 || t.review_pending || t.version_too_old ||
      (t.face_hold !== null && t.face_hold.status === "pending") ||
      t.pause_overdue || t.answered_during_pause > 0;
  }

  function renderCounts(view) {
    const order = ["all", "attention", "not_logged_in", "waiting", "answering", "offline",
                   "held", "submitted", "absent"];
    countsBox.replaceChildren(...order.map((key) => {
      const n = key === "all" ? view.counts.total : view.counts[key] || 0;
      return el("button", {
        type: "button", class: "count" + (state.filter === key ? " active" : ""),
        "data-filter": key, "aria-pressed": String(state.filter === key),
        on: { click: () => { state.filter = key; render(); } },
      }, `${T[key]} `, el("b", {}, n));
    }));
  }

  function badge(cls, text) { return el("span", { class: "badge " + cls }, text); }

  function renderTile(tile, now) {
    const badges = [];
    if (tile.attendance === "absent") badges.push(badge("absent", T.absent));
    if (tile.identity !== "none") badges.push(badge("id-" + tile.identity, T["identity_" + tile.identity]));
    if (tile.integrity_blocking > 0) badges.push(badge("warn", `${T.integrity} ${tile.integrity_blocking}`));
    if (tile.integrity_blind > 0) badges.push(badge("warn", T.process_check_blind));
    // 切屏 on every seat where it happened: a count, not 需关注 by itself (a warning).
    if (tile.switches > 0) badges.push(badge("switches", `${T.switches} ${count(tile.switches)}`));
    // Each kind apart: a user switch is 切屏 and held for review; a lock or a sleep is not.
    if (tile.user_switches > 0) badges.push(badge("user-switches", `${T.user_switches} ${count(tile.user_switches)}`));
    if (tile.session_locks > 0) badges.push(badge("session-locks", `${T.session_locks} ${count(tile.session_locks)}`));
    if (tile.suspends > 0) badges.push(badge("suspends", `${T.suspends} ${count(tile.suspends)}`));
    if (tile.review_pending) badges.push(badge("warn", T.review));
    if (tile.version_too_old) badges.push(badge("held", `${T.too_old} ${tile.client_version}`));
    for (const id of tile.pending_requests) badges.push(badge("held", `${T.request} #${id}`));
    if (tile.face_hold && tile.face_hold.status === "pending") {
      badges.push(badge("held face-pending", `${T.face_pending} #${tile.face_hold.id}`));
    }
    if (tile.extra_ms > 0) badges.push(badge("extra", `${T.extra_badge} +${minutes(tile.extra_ms)} ${T.minutes}`));
    if (tile.paused) {
      // How long it has been paused: a pause nobody resumes is the one to notice.
      const b = badge(tile.pause_overdue ? "warn" : "held",
        `${T.paused} ${duration(now - tile.paused_since_ms)}`);
      b.setAttribute("data-paused-for", String(now - tile.paused_since_ms));
      if (tile.pause_overdue) b.setAttribute("data-pause-overdue", "true");
      badges.push(b);
    }
    if (tile.answered_during_pause > 0) {
      badges.push(badge("warn", `${T.answered_during_pause} ${tile.answered_during_pause}`));
    }
    if (tile.messages.length) {
      const last = tile.messages[0];
      const b = badge("message", `${T.message_badge} ${messageState(last)}`);
      b.setAttribute("data-message-state", last.read_at_ms ? "read" : last.delivered_at_ms ? "delivered" : "sent");
      badges.push(b);
    }
    const stateLine = tile.state === "offline" ? `${T.offline} ${T.since} ${clock(tile.since_ms)}`
      : tile.state === "submitted" ? `${T.submitted} ${clock(tile.since_ms)}` : T[tile.state];
    return el("button", {
      type: "button", class: `tile state-${tile.state}` + (needsAttention(tile) ? " attention" : ""),
      "data-candidate": String(tile.candidate_id), "data-state": tile.state,
      "data-seat": tile.seat,
      on: { click: () => select(tile.candidate_id) },
    },
      el("span", { class: "seat" }, `${T.seat} ${tile.seat}`),
      el("span", { class: "name" }, tile.name),
      el("span", { class: "no" }, tile.student_no),
      el("span", { class: "state" }, stateLine),
      el("span", { class: "meta" }, `${T.answered} ${tile.answered} · ${T.last_sync} ${ago(tile.last_sync_ms, now)}`),
      el("span", { class: "badges" }, ...badges));
  }

  function render() {
    const view = state.view;
    if (!view) return;
    renderCounts(view);
    const now = view.server_time_ms;
    const shown = view.tiles.filter(matches);
    tilesBox.replaceChildren(...shown.map((t) => renderTile(t, now)));
    renderDetail(view.tiles.find((t) => t.candidate_id === state.selected) || null, now);
  }

  function actionButton(action, tile, extra) {
    if (!config.allowed.includes(action)) return null;
    return el("button", {
      type: "button", class: "action", "data-action": action,
      on: { click: () => askReason(action, tile, extra || {}) },
    }, extra && extra.label ? extra.label : T[action]);
  }

  // Photos are personal data served with no-store: one element per URL, kept across the
  // 2 s polls, so the browser fetches each once while the seat stays open.
  const images = new Map();
  function image(url, alt, cls) {
    let node = images.get(url);
    if (!node) { node = el("img", { src: url, alt, class: cls }); images.set(url, node); }
    return node;
  }

  // A failed face check: the check's frames beside the base photo, what failed, and the decision.
  function renderFaceHold(tile, hold, now) {
    const exam = encodeURIComponent(state.view.exam_id);
    const base = tile.has_photo
      ? image(`/console/photo/${exam}/${tile.candidate_id}`, `${T.photo} ${tile.name}`, "photo")
      : el("p", { class: "muted" }, T.no_photo);
    const frames = [];
    for (let i = 0; i < hold.captures; i++) {
      frames.push(image(`/console/face/${exam}/${tile.candidate_id}/${hold.id}/${i}`,
        `${T.face_evidence} ${i + 1}`, "photo evidence"));
    }
    const decision = hold.status === "pending" ? T.face_status_pending
      : `${T["face_status_" + hold.status]}（${hold.decided_by} ${clock(hold.decided_at_ms)}：${hold.decision_reason}）`;
    const facts = [
      [T.face_reason, `${hold.message || ""}（${hold.reason}）`],
      [T.face_score, hold.score === null ? "—" : `${hold.score.toFixed(3)}（${T.face_threshold} ${hold.threshold === null ? "—" : hold.threshold.toFixed(3)}）`],
      [T.face_failures, `${count(hold.failures)}`],
      [T.face_requested, `${clock(hold.requested_at_ms)}（${ago(hold.requested_at_ms, now)}）`],
      [T.face_decision, decision],
    ];
    return el("section", { class: "face-hold", id: "face-hold", "data-status": hold.status },
      el("h3", {}, `${T.face_failed} #${hold.id}`),
      el("div", { class: "face-compare" },
        el("figure", {}, base, el("figcaption", {}, T.photo)),
        ...frames.map((img, i) => el("figure", {}, img, el("figcaption", {}, `${T.face_evidence} ${i + 1}`)))),
      el("dl", {}, ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
      hold.status === "pending" ? el("p", { class: "muted" }, T.face_hint) : null,
      hold.status === "pending" ? el("div", { class: "actions" },
        actionButton("approve_face", tile, { hold_id: hold.id, label: `${T.approve_face} #${hold.id}` }),
        actionButton("refuse_face", tile, { hold_id: hold.id, label: `${T.refuse_face} #${hold.id}` })) : null);
  }

  function renderDetail(tile, now) {
    if (!tile && state.group) return;  // the group dialog stays as the proctor fills it
    if (!tile) { detail.hidden = true; detailInfo.replaceChildren(); dialogBox.replaceChildren(); images.clear(); return; }
    detail.hidden = false;
    const face = tile.face_hold ? renderFaceHold(tile, tile.face_hold, now) : null;
    const photo = tile.has_photo
      ? image(`/console/photo/${encodeURIComponent(state.view.exam_id)}/${tile.candidate_id}`,
              `${T.photo} ${tile.name}`, "photo")
      : el("p", { class: "muted" }, T.no_photo);
    const rows = [
      [T.seat, `${tile.room} / ${tile.seat}`], [T.status, T[tile.state]],
      [T.answered, tile.answered], [T.last_save, `${clock(tile.last_save_ms)}（${ago(tile.last_save_ms, now)}）`],
      [T.last_sync, `${clock(tile.last_sync_ms)}（${ago(tile.last_sync_ms, now)}）`],
      [T.identity, T["identity_" + tile.identity]],
      [T.integrity, tile.integrity_blocking || T.none],
      [T.integrity_notes, tile.integrity_warnings || T.none],
      [T.process_check_blind, tile.integrity_blind || T.none],
      [T.switches, tile.switches
        ? `${count(tile.switches)} · ${T.in_total} ${duration(tile.switched_away_ms)}` : T.none],
      [T.user_switches, tile.user_switches ? `${count(tile.user_switches)}${T.counted_as_switch}` : T.none],
      [T.session_locks, tile.session_locks
        ? `${count(tile.session_locks)} · ${T.in_total} ${duration(tile.locked_ms)}${T.not_counted}` : T.none],
      [T.suspends, tile.suspends
        ? `${count(tile.suspends)} · ${T.in_total} ${duration(tile.suspended_ms)}${T.not_counted}` : T.none],
      [T.end_time, tile.extra_ms > 0
        ? `${clock(tile.end_ms)}（${T.extra_badge} +${minutes(tile.extra_ms)} ${T.minutes}）` : clock(tile.end_ms)],
      ...(tile.paused ? [[T.paused, `${T.since} ${clock(tile.paused_since_ms)}（${duration(now - tile.paused_since_ms)}）` +
        (tile.pause_overdue ? ` · ${T.pause_overdue}` : "")]] : []),
      ...(tile.answered_during_pause > 0
        ? [[T.answered_during_pause, `${tile.answered_during_pause} · ${T.answered_during_pause_note}`]] : []),
      // Done on the PC (proctor mode), reported when it reconnected: both times.
      ...(tile.pc_actions.length ? [[T.pc_actions, el("ul", { class: "pc-actions" }, ...tile.pc_actions.map((a) =>
        el("li", { "data-action": a.action },
          `${a.time_trusted ? clock(a.done_at_ms) : T.time_unknown} ${a.label} · ${a.actor}` +
          `（${T.arrived_at} ${clock(a.arrived_at_ms)}）`)))]] : []),
      [T.message_badge, tile.messages.length ? el("ul", { class: "messages" }, ...tile.messages.map((m) =>
        el("li", {}, `${clock(m.at_ms)} ${messageState(m)}：${m.text}`))) : T.none],
      [T.client_version, tile.client_version === null ? "—"
        : tile.client_version + (tile.version_too_old ? `（${T.too_old}）` : "")],
    ];
    const requestButtons = [];
    for (const id of tile.pending_requests) {
      requestButtons.push(actionButton("approve_login", tile, { request_id: id, label: `${T.approve} #${id}` }));
      requestButtons.push(actionButton("refuse_login", tile, { request_id: id, label: `${T.refuse} #${id}` }));
    }
    detailInfo.replaceChildren(
      el("h2", {}, `${tile.name}（${tile.student_no}）`), face || photo,
      el("dl", {}, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
      el("div", { class: "actions" }, ...requestButtons,
        open(tile) ? actionButton("extra_time", tile) : null,
        actionButton("message", tile),
        actionButton("issue_code", tile),
        tile.attendance === "absent" ? actionButton("mark_present", tile) : actionButton("mark_absent", tile),
        actionButton("incident", tile),
        actionButton("reset_password", tile),
        tile.attempt_status === "in_progress"
          ? actionButton(tile.paused ? "resume" : "pause", tile) : null,
        tile.attempt_status === "in_progress" ? actionButton("end_attempt", tile) : null));
  }

  // A seat that may still get time: not submitted (planned before the login, too).
  function open(tile) { return tile.attempt_status === null || tile.attempt_status === "in_progress"; }

  // Minutes or a multiplier of the exam's duration; returns the fields for the action.
  function amountInputs() {
    const mode = el("select", { id: "extra-mode" },
      el("option", { value: "minutes" }, T.extra_minutes), el("option", { value: "multiplier" }, T.extra_multiplier));
    const amount = el("input", { id: "extra-amount", type: "number", min: "0", step: "any", value: "10" });
    mode.addEventListener("change", () => { amount.value = mode.value === "minutes" ? "10" : "1.25"; });
    return {
      parts: [el("label", {}, T.extra_how, mode), el("label", {}, T.extra_amount, amount)],
      values: () => mode.value === "minutes" ? { minutes: Number(amount.value) } : { multiplier: Number(amount.value) },
    };
  }

  // The group dialog: every seat shown now (the room, after the filter) ticked, the
  // proctor unticks whom it is not for; one action for all of them.
  function openGroup(action) {
    const view = state.view;
    if (!view) return;
    state.selected = null;
    render();
    detail.hidden = false;
    const seats = view.tiles.filter(matches).filter(action === "extra_time" ? open : () => true);
    const boxes = seats.map((tile) => el("input", {
      type: "checkbox", checked: true, value: String(tile.candidate_id), class: "group-seat",
      "data-seat": tile.seat,
    }));
    const list = el("div", { class: "group-list", id: "group-list" }, ...seats.map((tile, i) =>
      el("label", { class: "cand" }, boxes[i], ` ${T.seat} ${tile.seat} ${tile.name}`)));
    const all = el("button", { type: "button", id: "group-all",
      on: { click: () => boxes.forEach((b) => { b.checked = true; }) } }, T.select_all);
    const none = el("button", { type: "button", id: "group-none",
      on: { click: () => boxes.forEach((b) => { b.checked = false; }) } }, T.select_none);
    const isMessage = action === "message";
    const amount = isMessage ? null : amountInputs();
    const text = isMessage ? el("textarea", { id: "message-text", rows: 3, maxLength: 500 }) : null;
    const reason = el("textarea", { id: "reason", rows: 2, maxLength: 500 });
    const confirm = el("button", {
      type: "button", id: "confirm", class: "primary",
      on: { click: async () => {
        const ids = boxes.filter((b) => b.checked).map((b) => Number(b.value));
        confirm.disabled = true;
        const result = await post(isMessage
          ? { action, exam_id: view.exam_id, candidate_ids: ids, text: text.value }
          : { action, exam_id: view.exam_id, candidate_ids: ids, reason: reason.value, ...amount.values() });
        confirm.disabled = false;
        if (result.ok) {
          const n = isMessage ? result.sent : result.granted.length;
          dialogBox.replaceChildren(el("p", { class: "ok", id: "group-done" },
            `${T.done}：${T[action]} ${n} ${T.people}`));
          poll();
        } else {
          dialogBox.append(el("p", { class: "error", role: "alert" }, result.message || result.error));
        }
      } },
    }, T.confirm);
    detailInfo.replaceChildren(el("h2", {}, isMessage ? T.group_message_title : T.group_title));
    const fields = isMessage ? [el("label", {}, T.message_text, text)]
      : [...amount.parts, el("label", {}, T.reason, reason)];
    dialogBox.replaceChildren(el("p", {}, isMessage ? T.group_message_hint : T.group_hint),
      el("div", { class: "actions" }, all, none), list, ...fields, confirm,
      el("button", { type: "button", on: { click: () => select(null) } }, T.cancel));
    state.group = true;
  }

  function askReason(action, tile, extra) {
    const box = dialogBox;
    const reason = el("textarea", { id: "reason", rows: 2, maxLength: 500 });
    const parts = [el("label", {}, T.reason, reason)];
    let amount = null;
    if (action === "extra_time") {
      amount = amountInputs();
      parts.unshift(...amount.parts);
    }
    let text = null;
    if (action === "message") {  // the message itself is the record; no separate reason
      text = el("textarea", { id: "message-text", rows: 3, maxLength: 500 });
      parts.splice(0, parts.length, el("label", {}, T.message_text, text));
    }
    let category = null;
    if (action === "incident") {
      category = el("select", { id: "category" }, ...Object.entries(config.categories).map(
        ([k, v]) => el("option", { value: k }, v)));
      parts.unshift(el("label", {}, T.category, category));
    }
    const confirm = el("button", {
      type: "button", id: "confirm", class: "primary",
      on: { click: async () => {
        confirm.disabled = true;
        const result = await post({
          action, exam_id: state.view.exam_id, candidate_id: tile.candidate_id,
          request_id: extra.request_id ?? null, hold_id: extra.hold_id ?? null, reason: reason.value,
          category: category ? category.value : "", ...(amount ? amount.values() : {}),
          text: text ? text.value : "",
        });
        confirm.disabled = false;
        if (result.ok) {
          box.replaceChildren(result.code
            ? el("p", { id: "issued-code", class: "code" }, `${T.code_is} ${result.code}（${T.valid_until} ${result.valid_until} ${T.beijing}）`)
            : result.sent
              ? el("p", { class: "ok", id: "message-done" }, `${T.done}：${T.message_sent}`)
            : result.granted
              ? el("p", { class: "ok", id: "extra-done" }, `${T.done}：${T.new_end} ${result.granted[0].end}（${T.beijing}）`)
            : result.end && (action === "pause" || action === "resume")
              ? el("p", { class: "ok", id: "pause-done" }, action === "pause" ? T.paused_note
                : `${T.done}：${T.new_end} ${result.end}（${T.beijing}）`)
              : el("p", { class: "ok" }, T.done));
          poll();
        } else {
          box.append(el("p", { class: "error", role: "alert" }, result.message || result.error));
        }
      } },
    }, T.confirm);
    box.replaceChildren(el("p", {}, extra.label || T[action]), ...parts, confirm,
      el("button", { type: "button", on: { click: () => box.replaceChildren() } }, T.cancel));
    (text || reason).focus();
  }

  async function post(body) {
    try {
      const response = await fetch("/console/api/action", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrf },
        body: JSON.stringify(body),
      });
      return await response.json();
    } catch (err) {
      return { ok: false, message: T.stale };
    }
  }

  function fillRooms(view) {
    const current = roomSelect.value;
    const options = [el("option", { value: "" }, T.all)].concat(view.rooms.map(([c, r]) =>
      el("option", { value: `${c}\u0000${r}` }, r)));
    if (roomSelect.options.length !== options.length) {
      roomSelect.replaceChildren(...options);
      roomSelect.value = current;
    }
  }

  async function poll() {
    if (state.busy) return;
    state.busy = true;
    const [center, room] = roomSelect.value ? roomSelect.value.split("\u0000") : ["", ""];
    const url = `/console/api/room?exam=${encodeURIComponent(examSelect.value)}` +
      `&center=${encodeURIComponent(center)}&room=${encodeURIComponent(room)}`;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.href = "/console/login"; return; }
      if (response.ok) {
        state.view = await response.json();
        state.lastOk = Date.now();
        fillRooms(state.view);
        render();
        notice.hidden = true;
        document.body.dataset.updatedAt = String(state.view.server_time_ms);
      }
    } catch (err) {
      notice.hidden = false;
      notice.textContent = T.stale;
    } finally {
      state.busy = false;
    }
  }

  function tick() {
    const view = state.view;
    if (view) {
      const drift = Date.now() - state.lastOk;
      document.getElementById("clock").textContent = `${T.beijing} ${clock(view.server_time_ms + drift)}`;
      document.getElementById("freshness").textContent = `${T.updated} ${Math.round(drift / 1000)} ${T.seconds_ago}`;
    }
  }

  examSelect.addEventListener("change", () => {
    window.location.search = `?exam=${encodeURIComponent(examSelect.value)}`;
  });
  roomSelect.addEventListener("change", poll);
  const groupButton = document.getElementById("group-action");
  if (groupButton) groupButton.addEventListener("click", () => openGroup("extra_time"));
  const groupMessage = document.getElementById("group-message");
  if (groupMessage) groupMessage.addEventListener("click", () => openGroup("message"));
  search.addEventListener("input", render);
  poll();
  setInterval(poll, POLL_MS);
  setInterval(tick, 1000);
})();
