// The messages of an event's live chat: each shown once, in server id order, whatever order they
// arrive in; removed and pinned ones updated in place; the pinned list above; delete, pin and mute
// buttons; scrolling to new messages only when the reader is already at the bottom. Markup mirrors
// chat_message in templates/events/_live_macros.html.
import {
  clearFieldError,
  clockTime,
  fieldError,
  h,
  hiddenText,
  plainText,
  syncButtons,
  timeElement,
} from "/static/js/live-dom.js";

const REMOVED = "Message removed"; // the words of the transcript (transcripts.REMOVED)
const HIDDEN = "Message hidden while a moderator reviews a report";
const REPORT_HINT =
  "A report of patient-identifiable information hides the message at once until a moderator has looked at it.";

// A report sent with no reason chosen: said in the question, in the words of the plain form's
// page (events.forms.ReportMessageForm), and the focus on the first choice (described by the
// message, so it is read out).
function reasonMissing(form, id) {
  const fieldset = form.querySelector("fieldset");
  if (!form.querySelector(`#${id}`)) {
    const error = h("span", { class: "nhsuk-error-message", id }, hiddenText("Error:"), " Choose why you are reporting this message");
    fieldset.querySelector(".nhsuk-radios").before(error);
    fieldset.setAttribute("aria-describedby", id);
  }
  fieldset.querySelector("input[type=radio]").focus();
}

export class MessageList {
  constructor(root, chat) {
    this.chat = chat;
    this.list = root.querySelector("[data-message-list]");
    this.scroller = root.querySelector("[data-message-scroll]");
    this.empty = root.querySelector("[data-no-messages]");
    this.pinnedSection = root.querySelector("[data-pinned]");
    this.pinnedList = root.querySelector("[data-pinned-list]");
    this.elements = new Map(); // id -> <li> in the main list
    // Every message up to the id ``complete`` is here (null until the first join); ``waiting``
    // holds each later one's previous_id until the messages before it are here too.
    this.complete = null;
    this.waiting = new Map(); // id -> previous_id
    this.muted = new Set(); // user ids (moderators only)
    // [value, label] of each reason a reader may give for reporting a message (none: may not).
    this.reportReasons = JSON.parse(root.dataset.reportReasons || "[]");
    // The label and hint of the report's note (moderation.forms.report_note).
    this.reportNote = { label: root.dataset.reportNoteLabel, hint: root.dataset.reportNoteHint };
    for (const item of this.list.querySelectorAll("[data-message-id]")) {
      item.dataset.serverRendered = "";
      this.elements.set(Number(item.dataset.messageId), item);
    }
    this.newBelow = h(
      "button",
      { type: "button", class: "pl-link-button pl-chat__new-below", hidden: true },
      "New messages below",
    );
    this.newBelow.addEventListener("click", () => this.toBottom());
    this.scroller.after(this.newBelow);
    this.scroller.addEventListener("scroll", () => {
      if (this.nearBottom()) this.newBelow.hidden = true;
    });
    this.list.addEventListener("click", (event) => this.clicked(event));
    this.pinnedList.addEventListener("click", (event) => this.clicked(event));
    this.toBottom();
  }

  // A join answered: its messages are all of the event's after ``afterId`` (or, without it, all
  // of them from the oldest it returned). Says whether a gap remains (see arrived).
  caughtUp(messages, afterId) {
    const newest = messages.length ? messages[messages.length - 1].id : (afterId ?? 0);
    this.complete = Math.max(this.complete ?? 0, newest);
    return this.advance();
  }

  // A message arrived live (broadcast, or the acknowledgement of mine). Each names the event's
  // message before it, so one broadcast late, or never (its server stopped between storing and
  // broadcasting it), shows up here as a gap. Says whether a gap remains.
  arrived(message) {
    if (this.complete !== null && message.id <= this.complete) return false;
    this.waiting.set(message.id, message.previous_id ?? 0);
    return this.complete !== null && this.advance();
  }

  // Move ``complete`` over the waiting messages that follow on from it, in id order.
  advance() {
    for (const id of [...this.waiting.keys()].sort((a, b) => a - b)) {
      if (id <= this.complete) this.waiting.delete(id);
      else if (this.waiting.get(id) <= this.complete) {
        this.complete = id;
        this.waiting.delete(id);
      } else break;
    }
    return this.waiting.size > 0;
  }

  // On the first join the server-rendered history is replaced by the live one (same messages,
  // with buttons); anything that arrived live meanwhile stays.
  replaceServerRendered() {
    for (const [id, item] of this.elements) {
      if ("serverRendered" in item.dataset) {
        item.remove();
        this.elements.delete(id);
      }
    }
  }

  // Show a message unless it is already shown; then update it to the server's state, which may
  // have changed while this screen was away (removed, hidden, restored, pinned or unpinned).
  // Returns whether it was new.
  upsert(message, { announce = true, mine = false } = {}) {
    const known = this.elements.get(message.id);
    if (known) {
      const shownHidden = this.showsHidden(known);
      if (message.deleted) this.markDeleted(message.id);
      else if (message.hidden && !shownHidden) this.markHidden(message.id, Boolean(message.body_html));
      else if (!message.hidden && shownHidden) this.restore(message);
      else this.showPinned(known, message.pinned);
      return false;
    }
    const atBottom = this.nearBottom();
    const item = this.build(message);
    this.elements.set(message.id, item);
    const later = [...this.elements.keys()].filter((id) => id > message.id).sort((a, b) => a - b)[0];
    const before =
      later !== undefined ? this.elements.get(later) : this.list.querySelector(".pl-chat__message--pending");
    this.list.insertBefore(item, before || null);
    this.empty.hidden = true;
    if (mine || atBottom) this.toBottom();
    else this.newBelow.hidden = false;
    if (announce && !mine && !message.deleted && message.author.id !== this.chat.me.id) {
      this.chat.announce(`${message.author.name}: ${plainText(message.body_html)}`, `message-${message.id}`);
    }
    return true;
  }

  // A message of mine waiting for the server: it stays at the bottom until acknowledged.
  pending(body) {
    const item = h(
      "li",
      { class: "pl-chat__message pl-chat__message--pending" },
      h(
        "p",
        { class: "pl-chat__meta" },
        h("span", { class: "pl-author" }, "You"),
        " ",
        h("span", { class: "pl-meta" }, "Sending…"),
      ),
      h("p", { class: "pl-chat__body" }, body),
    );
    this.list.append(item);
    this.empty.hidden = true;
    this.toBottom();
    return item;
  }

  build(message, idPrefix = "message-") {
    const author = message.author;
    const item = h(
      "li",
      {
        class: "pl-chat__message",
        id: `${idPrefix}${message.id}`,
        "data-message-id": message.id,
        "data-author-id": author.id ?? "",
      },
      h(
        "p",
        { class: "pl-chat__meta" },
        h("span", { class: "pl-author" }, author.name),
        author.organisation ? h("span", { class: "pl-meta" }, `, ${author.organisation}`) : null,
        " ",
        timeElement(message.created_at),
      ),
    );
    item.message = message;
    if (message.deleted || (message.hidden && !message.body_html)) {
      item.classList.add("pl-chat__message--removed");
      item.append(h("p", { class: "pl-removed pl-chat__body" }, message.deleted ? REMOVED : HIDDEN));
    } else {
      const body = h("div", { class: "pl-user-content pl-chat__body" });
      body.innerHTML = message.body_html; // already sanitised by the server's text pipeline
      item.append(body, h("div", { class: "pl-chat__actions" }));
      this.showPinned(item, message.pinned, idPrefix === "pinned-");
      if (message.hidden) this.tagHidden(item);
      if (idPrefix === "message-" && this.reportable(message)) item.append(this.reportControl(message));
    }
    return item;
  }

  // The Hidden tag on a message whose text this reader is still sent (a moderator), as
  // chat_message renders it.
  tagHidden(item) {
    const meta = item.querySelector(".pl-chat__meta");
    if (meta.querySelector(".pl-chat__hidden-tag")) return;
    meta.append(" ", h("strong", { class: "nhsuk-tag nhsuk-tag--red pl-chat__hidden-tag" }, "Hidden"));
  }

  // Whether this reader may report the message (the policy's ``flag``, as the page decides for
  // the messages it renders): someone else's, still shown to everyone.
  reportable(message) {
    return this.reportReasons.length > 0 && message.author.id !== this.chat.me.id && !message.hidden;
  }

  // The Report control beside a message, as chat_message renders it without JavaScript; here
  // the report goes over the socket (report_message) and the page stays as it is.
  reportControl(message) {
    const id = `report-${message.id}`;
    const about = ` the message from ${message.author.name} at ${clockTime(message.created_at)}`;
    const radios = this.reportReasons.map(([value, label]) =>
      h(
        "div",
        { class: "nhsuk-radios__item" },
        h("input", { class: "nhsuk-radios__input", id: `${id}-${value}`, name: "reason", type: "radio", value, required: true }),
        h("label", { class: "nhsuk-label nhsuk-radios__label", for: `${id}-${value}` }, label),
      ),
    );
    const form = h(
      "form",
      {
        method: "post",
        action: `/events/${this.chat.eventId}/chat/${message.id}/report`,
        novalidate: true,
        "data-report-form": true,
      },
      h(
        "fieldset",
        { class: "nhsuk-fieldset" },
        h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, "Why are you reporting this message?"),
        h("p", { class: "nhsuk-hint" }, REPORT_HINT),
        h("div", { class: "nhsuk-radios nhsuk-radios--small" }, ...radios),
      ),
      h(
        "div",
        { class: "nhsuk-form-group" },
        h("label", { class: "nhsuk-label", for: `${id}-note` }, this.reportNote.label),
        h("div", { class: "nhsuk-hint", id: `${id}-note-hint` }, this.reportNote.hint),
        h("textarea", { class: "nhsuk-textarea", id: `${id}-note`, name: "note", rows: 2, "aria-describedby": `${id}-note-hint` }),
      ),
      h("button", { type: "submit", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small" }, "Send report"),
    );
    const control = h(
      "details",
      { class: "pl-chat__report", "data-report-message": true },
      h("summary", {}, "Report", hiddenText(about)),
      form,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearFieldError(form); // what the last attempt was told
      const data = new FormData(form);
      if (!data.get("reason")) {
        reasonMissing(form, `${id}-reason-error`);
        return;
      }
      form.querySelector(`#${id}-reason-error`)?.remove();
      form.querySelector("fieldset").removeAttribute("aria-describedby");
      const note = form.querySelector("textarea").value;
      const report = { message_id: message.id, reason: data.get("reason"), note };
      const refused = (ack) => {
        // A note the report needs, or one too long, is told beside the note, as on the plain form.
        if (ack?.error?.code !== "note") return false;
        fieldError(form, ack.error.message);
        form.querySelector("textarea").focus();
        return true;
      };
      this.chat.request("report_message", report, (ack) => {
        // The report's form goes; the focus stays where the reader was, on the message.
        const item = control.closest("li");
        control.remove();
        if (item) {
          item.tabIndex = -1;
          item.focus();
        }
        this.chat.setStatus(
          ack.hidden
            ? "Thank you. The message is hidden until a moderator has looked at it."
            : "Thank you. The space's moderators will look at your report.",
          8000,
        );
      }, refused);
    });
    return control;
  }

  // The Pinned tag and the buttons a reader may use on a message.
  showPinned(item, pinned, pinnedCopy = false) {
    const message = item.message;
    if (!message) return; // still the server's markup: the join acknowledgement replaces it
    message.pinned = pinned;
    const meta = item.querySelector(".pl-chat__meta");
    meta.querySelector(".pl-chat__pinned-tag")?.remove();
    if (pinned && !pinnedCopy) {
      meta.append(" ", h("strong", { class: "nhsuk-tag nhsuk-tag--blue pl-chat__pinned-tag" }, "Pinned"));
    }
    const actions = item.querySelector(".pl-chat__actions");
    if (!actions) return;
    const me = this.chat.me;
    const about = ` the message from ${message.author.name} at ${clockTime(message.created_at)}`;
    const wanted = [];
    if (!pinnedCopy && (message.author.id === me.id || me.moderator)) {
      wanted.push({ action: "delete", text: "Delete", hidden: about });
    }
    if (me.moderator && !message.hidden) {
      wanted.push({ action: "pin", text: pinned ? "Unpin" : "Pin", hidden: about });
    }
    if (!pinnedCopy && me.moderator && message.author.id && message.author.id !== me.id) {
      const muted = this.muted.has(message.author.id);
      wanted.push({
        action: "mute",
        text: `${muted ? "Unmute" : "Mute"} ${message.author.name}`,
        attributes: { "data-user-id": message.author.id },
      });
    }
    syncButtons(actions, wanted);
  }

  markDeleted(id) {
    this.replaceBody(id, REMOVED);
    const item = this.elements.get(id);
    if (item?.message) item.message.deleted = true;
  }

  // A message hidden pending a report's review: a placeholder in its place, or, where this
  // reader keeps its text (a moderator: ``keepText``), a Hidden tag on it. Either way it is
  // unpinned and nobody may report it any more.
  markHidden(id, keepText) {
    const item = this.elements.get(id);
    if (!keepText || !item?.message || item.message.deleted) {
      this.replaceBody(id, HIDDEN);
      return;
    }
    this.unpinCopy(id);
    item.message.hidden = true;
    item.querySelector(".pl-chat__report")?.remove();
    this.keepFocus(item, () => this.showPinned(item, false));
    this.tagHidden(item);
  }

  // The ids of the messages this screen shows as hidden (a placeholder, or a moderator's tag):
  // a rejoin asks which of them were restored while it was away.
  shownHidden() {
    const ids = [];
    for (const [id, item] of this.elements) {
      if (this.showsHidden(item)) ids.push(id);
    }
    return ids.slice(-500);
  }

  // Whether this screen shows the message hidden (a placeholder, or a moderator's Hidden tag).
  showsHidden(item) {
    return Boolean(item.message?.hidden) || item.querySelector(".pl-removed")?.textContent === HIDDEN;
  }

  // A rejoin or a catch-up gave only the latest of the messages missed (the server bounds each
  // answer): say so where the others would be, before the message ``firstId``, with the way to
  // read them.
  markLeftOut(firstId) {
    const note = h(
      "li",
      { class: "pl-chat__left-out", "data-left-out": true },
      h(
        "p",
        { class: "pl-meta" },
        "Earlier messages you missed are not shown here. ",
        h("a", { href: `/events/${this.chat.eventId}/transcript` }, "Read them in the full transcript"),
        ".",
      ),
    );
    this.list.insertBefore(note, this.elements.get(firstId) || null);
  }

  // A hidden message a moderator restored: shown again as it now is, in its place.
  restore(message) {
    const item = this.elements.get(message.id);
    if (!item) return;
    const shown = this.build(message);
    this.elements.set(message.id, shown);
    this.keepFocus(item, () => item.replaceWith(shown), shown);
  }

  // Empty a message's place but for the words saying why (``REMOVED`` or ``HIDDEN``).
  replaceBody(id, words) {
    const item = this.elements.get(id);
    this.unpinCopy(id);
    this.chat.announcer.forget(`message-${id}`);
    if (!item || item.querySelector(".pl-removed")?.textContent === words) return;
    this.keepFocus(item, () => {
      item.classList.add("pl-chat__message--removed");
      item.querySelector(".pl-chat__pinned-tag")?.remove();
      item.querySelector(".pl-chat__hidden-tag")?.remove();
      item.querySelector(".pl-chat__actions")?.remove();
      item.querySelector(".pl-chat__report")?.remove();
      item.querySelector(".pl-chat__body").replaceWith(h("p", { class: "pl-removed pl-chat__body" }, words));
    });
  }

  // Change a message; if that takes away what had focus (the button pressed), keep the
  // reader's place on the message itself (``after``: the element now in its place).
  keepFocus(item, change, after = item) {
    const hadFocus = item.contains(document.activeElement);
    change();
    if (hadFocus && !after.contains(document.activeElement)) {
      after.tabIndex = -1;
      after.focus({ preventScroll: true });
    }
  }

  // The pinned list from a join acknowledgement (the whole of it), or one message pinned or
  // unpinned. The Pinned tags in the chat follow the whole list: after a rejoin they show the
  // pins changed while the reader was offline.
  loadPinned(messages) {
    this.pinnedList.replaceChildren(...messages.map((m) => this.build(m, "pinned-")));
    this.pinnedSection.hidden = !messages.length;
    const pinned = new Set(messages.map((m) => m.id));
    for (const [id, item] of this.elements) {
      const message = item.message;
      if (!message || message.deleted || message.pinned === pinned.has(id)) continue;
      this.showPinned(item, pinned.has(id));
    }
  }

  setPinned(message) {
    const item = this.elements.get(message.id);
    if (item) this.showPinned(item, message.pinned);
    this.unpinCopy(message.id);
    if (message.pinned) this.pinnedList.append(this.build(message, "pinned-"));
    this.pinnedSection.hidden = !this.pinnedList.childElementCount;
  }

  unpinCopy(id) {
    this.pinnedList.querySelector(`#pinned-${id}`)?.remove();
    this.pinnedSection.hidden = !this.pinnedList.childElementCount;
  }

  setMuted(userIds) {
    this.muted = new Set(userIds);
    for (const item of this.elements.values()) {
      if (item.message && !item.message.deleted) this.showPinned(item, item.message.pinned);
    }
  }

  clicked(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest("[data-message-id]");
    const message = item.message;
    const action = button.dataset.action;
    if (action === "delete") {
      // A removed message cannot be brought back, so ask first.
      if (!window.confirm("Delete this message for everyone?")) return;
      this.chat.request("delete", { message_id: message.id }, () => this.markDeleted(message.id));
    } else if (action === "pin") {
      const change = { message_id: message.id, pinned: !message.pinned };
      this.chat.request("pin", change, (ack) => this.setPinned(ack.message));
    } else if (action === "mute") {
      const userId = Number(button.dataset.userId);
      const muted = !this.muted.has(userId);
      const change = { event_id: this.chat.eventId, user_id: userId, muted };
      this.chat.request("mute", change, () => this.chat.memberMuted(change));
    }
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  toBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.newBelow.hidden = true;
  }
}
