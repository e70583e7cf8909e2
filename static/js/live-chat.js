// The live chat of an event page over Socket.IO (namespace /live, the contract in
// docs/live-chat.md). It enhances the server-rendered chat: without JavaScript, or until the first
// join, the plain forms post to the server instead.
//
// Never losing a message: the id up to which every message is shown is remembered and every
// (re)join asks for the messages after it, so a reader who was offline sees each missed message
// once, in order. Each message names the one before it: one that arrives ahead of a message it
// follows leaves a gap, filled from the server if the missing message is not broadcast soon. Sends
// and questions wait in a queue until acknowledged and are resent with the same client_id after a
// reconnect (the server stores each client_id once). What changed while offline among the messages
// already shown (removed, pinned or unpinned) is corrected from the join acknowledgement too.
//
// The chat opens and closes by itself at the ends of its time window: each state says in how many
// seconds (by the server's clock, so this computer's clock does not matter), and a timer here
// follows it without asking the server, which stays the judge (a late send is refused).
import { io } from "/static/vendor/socket.io/socket.io.esm.min.js";
import {
  Announcer,
  clearFieldError,
  describedBy,
  fieldError,
  h,
  LONGEST_TIMER,
  newClientId,
  plural,
  restoreText,
} from "/static/js/live-dom.js";
import { MessageList } from "/static/js/live-messages.js";
import { QuestionPanel } from "/static/js/live-questions.js";

export function startLiveChat() {
  const root = document.querySelector("[data-live-chat]");
  if (!root || !root.dataset.me) return; // visitors read the server-rendered chat
  const chat = new LiveChat(root);
  window.peerlearnLive = chat; // for the browser tests: peerlearnLive.socket
  chat.connect();
}

// How long a message that arrived ahead of one it follows waits for that one to be broadcast.
const GAP_WAIT_MS = 2000;

// The words for an error acknowledgement.
function problem(ack) {
  const error = ack?.error || {};
  if (error.code === "slow_mode" && error.retry_after) {
    return `Slow mode is on: wait ${plural(error.retry_after, "second", "seconds")} before sending another message`;
  }
  return error.message || "Something went wrong: try again";
}

class LiveChat {
  constructor(root) {
    this.root = root;
    this.eventId = Number(root.dataset.eventId);
    this.me = { id: Number(root.dataset.me), moderator: "moderator" in root.dataset, muted: false };
    this.canPost = "canPost" in root.dataset;
    this.status = root.querySelector("[data-live-status]");
    this.announcer = new Announcer(root.querySelector("[data-announcer]"));
    this.sendForm = root.querySelector("[data-send-form]");
    this.messages = new MessageList(root, this);
    this.questions = new QuestionPanel(root, this);
    this.outbox = []; // sends and questions not yet acknowledged, oldest first
    this.inFlight = false;
    this.generation = 0; // bumped on every disconnect: late answers from before are ignored
    this.joined = false;
    this.everJoined = false;
    this.removed = false;
    this.statusTimer = null;
    this.windowTimers = []; // the chat opening or closing by itself
    this.sendForm?.addEventListener("submit", (event) => this.submitted(event));
    this.startModeratorTools();
  }

  connect() {
    const socket = io("/live", { transports: ["websocket", "polling"] });
    this.socket = socket;
    socket.on("connect", () => this.join());
    socket.on("disconnect", (reason) => {
      this.joined = false;
      this.inFlight = false;
      this.generation += 1;
      if (this.removed) return;
      this.setStatus("Reconnecting…");
      if (reason === "io server disconnect") socket.connect(); // the server dropped us: try again
    });
    socket.on("connect_error", () => {
      if (!socket.active) this.setStatus("The live chat could not connect. Reload the page to try again.");
      else if (this.everJoined) this.setStatus("Reconnecting…");
    });
    socket.on("message", (message) => this.received(message));
    socket.on("message_deleted", ({ id }) => this.messages.markDeleted(id));
    // Hidden pending a report's review: a placeholder on readers' screens; moderators' screens
    // are sent its text with it, and keep it marked Hidden.
    socket.on("message_hidden", ({ id, message }) => this.messages.markHidden(id, Boolean(message)));
    socket.on("message_restored", ({ message }) => this.messages.restore(message));
    socket.on("message_pinned", ({ message }) => this.messages.setPinned(message));
    socket.on("question", (question) => this.questions.upsert(question));
    socket.on("question_removed", ({ id }) => this.questions.remove(id));
    socket.on("presence", ({ people }) => this.showPresence(people));
    socket.on("member_muted", (change) => this.memberMuted(change));
    socket.on("state", (state) => this.applyState(state));
    socket.on("removed", () => this.wasRemoved());
  }

  // Join (or rejoin) the event's chat and catch up on what was missed.
  join() {
    const request = { event_id: this.eventId };
    const catchingUp = this.everJoined;
    if (catchingUp) {
      request.after_id = this.messages.complete;
      request.shown_hidden_ids = this.messages.shownHidden();
    }
    const generation = this.generation;
    this.socket.emit("join", request, (ack) => {
      if (generation !== this.generation) return;
      if (!ack?.ok) {
        // Refused (no longer allowed to read it, say): stop, as when removed, and give back
        // what was waiting to be sent; the plain forms post from now on.
        this.stop();
        this.setStatus(`The live chat is not available: ${problem(ack)}`);
        return;
      }
      if (!catchingUp) this.messages.replaceServerRendered();
      let missed = 0;
      for (const message of ack.messages) {
        if (this.messages.upsert(message, { announce: false })) missed += 1;
      }
      if (catchingUp && ack.earlier_left_out) this.messages.markLeftOut(ack.messages[0].id);
      if (this.messages.caughtUp(ack.messages, request.after_id)) this.fillGapSoon();
      for (const id of ack.deleted_ids || []) this.messages.markDeleted(id);
      this.me = ack.me;
      for (const id of ack.hidden_ids || []) this.messages.markHidden(id, this.me.moderator);
      for (const message of ack.restored || []) this.messages.restore(message);
      this.messages.setMuted(ack.state.muted_user_ids || []);
      this.messages.loadPinned(ack.pinned);
      this.questions.load(ack.questions, ack.voted);
      this.showPresence(ack.presence);
      this.applyState(ack.state);
      this.joined = true;
      this.everJoined = true;
      if (catchingUp) {
        let news = missed
          ? `${plural(missed, "new message", "new messages")} since you lost the connection.`
          : "No messages were missed.";
        if (ack.earlier_left_out) {
          news = `The latest ${plural(ack.messages.length, "message", "messages")} you missed are shown; the full transcript has the earlier ones.`;
        }
        this.setStatus(`Reconnected. ${news}`, 8000);
      } else {
        this.setStatus("");
      }
      this.pump();
    });
  }

  received(message) {
    this.messages.upsert(message);
    if (this.messages.arrived(message)) this.fillGapSoon();
  }

  // A message arrived before one it follows. That one is normally a moment behind (two servers'
  // broadcasts can cross); if it has not come within GAP_WAIT_MS, ask the server for it.
  fillGapSoon() {
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.ready() && this.messages.waiting.size) this.catchUp();
    }, GAP_WAIT_MS);
  }

  // The messages after the last one I have every message before, shown and announced as if
  // they had come live. While reconnecting there is no need: the rejoin catches up.
  catchUp() {
    const afterId = this.messages.complete;
    const generation = this.generation;
    this.socket.emit("catch_up", { event_id: this.eventId, after_id: afterId }, (ack) => {
      if (generation !== this.generation) return;
      if (!ack?.ok) {
        if (ack?.error?.code === "rate_limited") this.fillGapSoon();
        return;
      }
      for (const message of ack.messages) this.messages.upsert(message);
      if (ack.earlier_left_out) this.messages.markLeftOut(ack.messages[0].id);
      for (const id of ack.deleted_ids) this.messages.markDeleted(id);
      for (const id of ack.hidden_ids || []) this.messages.markHidden(id, this.me.moderator);
      if (this.messages.caughtUp(ack.messages, afterId)) this.fillGapSoon();
    });
  }

  ready() {
    return this.joined && this.socket.connected && !this.removed;
  }

  announce(text, about = null) {
    this.announcer.say(text, about);
  }

  setStatus(text, clearAfter = 0) {
    clearTimeout(this.statusTimer);
    this.status.textContent = text;
    if (clearAfter) this.statusTimer = setTimeout(() => this.setStatus(""), clearAfter);
  }

  // A one-off request (vote, delete, pin, mute, moderation, report): the answer, or the error
  // shown in the status line, unless ``onRefused`` shows it itself (and says so).
  request(name, data, onOk, onRefused = () => false) {
    if (!this.ready()) {
      this.setStatus("You are offline: try again when the chat has reconnected.");
      return;
    }
    this.socket.emit(name, data, (ack) => {
      if (ack?.ok) onOk(ack);
      else if (!onRefused(ack)) this.setStatus(problem(ack));
    });
  }

  // Queue a message or question until the server acknowledges it; ``form`` gets it back, with
  // the error beside the box, if it is refused.
  enqueue(kind, body, form, onOk, placeholder = null) {
    this.outbox.push({ kind, body, form, onOk, placeholder, clientId: newClientId() });
    this.pump();
  }

  // Send the oldest queued item; the next goes when it is answered, so the order is kept.
  pump() {
    if (this.inFlight || !this.ready() || !this.outbox.length) return;
    const item = this.outbox[0];
    const generation = this.generation;
    this.inFlight = true;
    const data = { event_id: this.eventId, body: item.body, client_id: item.clientId };
    this.socket.emit(item.kind, data, (ack) => {
      if (generation !== this.generation) return; // the connection dropped: resent on rejoining
      this.inFlight = false;
      this.outbox.shift();
      item.placeholder?.remove();
      if (ack?.ok) {
        item.onOk(ack);
      } else {
        restoreText(item.form, item.body);
        fieldError(item.form, problem(ack));
        this.announce(`Not sent: ${problem(ack)}`);
        this.applyState({}); // a box the chat closed meanwhile holds the text again, to copy
      }
      this.pump();
    });
  }

  submitted(event) {
    if (!this.everJoined || this.removed) return; // not live yet: the plain form posts it
    event.preventDefault();
    const box = this.sendForm.querySelector("textarea");
    const body = box.value.trim();
    if (!body) {
      fieldError(this.sendForm, "Write a message");
      box.focus(); // the box is described by the error, so it is read out
      return;
    }
    clearFieldError(this.sendForm);
    box.value = "";
    const placeholder = this.messages.pending(body);
    const shown = (ack) => {
      this.messages.upsert(ack.message, { mine: true });
      if (this.messages.arrived(ack.message)) this.fillGapSoon();
    };
    this.enqueue("send", body, this.sendForm, shown, placeholder);
  }

  showPresence(people) {
    const list = this.root.querySelector("[data-presence-list]");
    const summary = this.root.querySelector("[data-presence-summary]");
    summary.textContent = `${plural(people.length, "person is", "people are")} here now.`;
    list.replaceChildren(
      ...people.map((person) =>
        h(
          "li",
          {},
          h("span", { class: "pl-author" }, person.name),
          person.organisation ? h("span", { class: "pl-meta" }, `, ${person.organisation}`) : null,
          this.me.moderator && this.messages.muted.has(person.id)
            ? h("strong", { class: "nhsuk-tag nhsuk-tag--grey pl-presence__muted" }, "Muted")
            : null,
        ),
      ),
    );
    list.hidden = !people.length;
    this.people = people;
  }

  // The chat opened, closed, or changed its slow mode. A change of open or closed after the first
  // join is announced; focus stays where it is unless what had it has gone (see refocus).
  applyState(state) {
    const focused = this.root.contains(document.activeElement) ? document.activeElement : null;
    const wasOpen = this.state ? Boolean(this.state.open) : null;
    this.state = { ...this.state, ...state };
    if ("closes_in_seconds" in state) this.followWindow(state);
    const open = Boolean(this.state.open);
    if (wasOpen !== null && wasOpen !== open) {
      this.announce(open ? "The chat is open." : "The chat has closed. You can still read it.");
    }
    const writable = open && this.canPost && !this.me.muted && !this.removed;
    for (const composer of this.root.querySelectorAll("[data-composer]")) {
      if (this.showComposer(composer, writable)) this.announce(composer.querySelector("[data-held-notice]").textContent);
    }
    const muted = this.root.querySelector("[data-muted-notice]");
    if (muted) muted.hidden = !this.me.muted || !open;
    this.root.querySelector("[data-closed-notice]").hidden = open;
    const slow = this.root.querySelector("[data-slow-mode-notice]");
    slow.hidden = !open || !this.state.slow_mode_seconds;
    slow.querySelector("[data-slow-mode-seconds]").textContent = String(this.state.slow_mode_seconds || 0);
    this.questions.setWritable(writable);
    const tools = this.root.querySelector("[data-moderator-tools]");
    if (tools) tools.hidden = !this.me.moderator || this.removed;
    if (tools && !tools.hidden) {
      // Close while the chat is open; reopen what a moderator closed. A chat whose time is up
      // (or not yet come) offers neither: there is nothing a moderator's button would change.
      tools.querySelector("[data-close-chat]").hidden = !open || this.state.closed_by_moderator;
      tools.querySelector("[data-reopen-chat]").hidden =
        !this.state.closed_by_moderator || this.state.time_over;
      tools.querySelector("select").value = String(this.state.slow_mode_seconds || 0);
    }
    if (focused) this.refocus(focused);
  }

  // Show a composer while I may write. When I may not, hide it, unless it holds text I have not
  // sent: then it stays, its box read-only with a note (as the server renders a refused form) and
  // without its send button, so nothing typed disappears from under me. Says whether it has just
  // started holding text.
  showComposer(composer, writable) {
    const box = composer.querySelector("textarea");
    const note = composer.querySelector("[data-held-notice]");
    const wasHeld = box.readOnly;
    const held = !writable && box.value.trim() !== "";
    composer.hidden = !writable && !held;
    box.readOnly = held;
    note.hidden = !held;
    describedBy(box, note.id, held);
    composer.querySelector("[data-send-button]").hidden = held;
    return held && !wasHeld;
  }

  // Focus was inside the chat on something that has just been hidden or removed (an empty
  // composer, a send or vote button, the moderators' close button, a notice no longer true):
  // give it to what says why (the closed or muted notice), or else to what can be used now,
  // rather than let it fall to the page's body (WCAG 2.4.3). Whatever is still shown keeps it.
  refocus(focused) {
    const shown = (element) => element?.isConnected && element.getClientRects().length > 0;
    if (shown(focused)) return;
    const next = [
      "[data-closed-notice]",
      "[data-muted-notice]",
      "[data-composer]:not([hidden]) textarea",
      "[data-close-chat]",
      "[data-reopen-chat]",
      "[data-live-status]",
    ]
      .map((selector) => this.root.querySelector(selector))
      .find((element) => shown(element) && (element.matches("textarea") || element.textContent.trim()));
    next?.focus();
  }

  // Switch the chat open or closed when its time window says so, from a state from the server
  // (timers from an earlier state are dropped). A moderator's close stops both: the server then
  // sends no times. A time further off than a timer can wait is left to a later state.
  followWindow({ opens_in_seconds: opensIn, closes_in_seconds: closesIn }) {
    for (const timer of this.windowTimers) clearTimeout(timer);
    this.windowTimers = [];
    const at = (seconds, open) => {
      if (typeof seconds !== "number" || seconds * 1000 > LONGEST_TIMER) return;
      this.windowTimers.push(setTimeout(() => this.applyState({ open }), seconds * 1000));
    };
    at(opensIn, true);
    at(closesIn, false);
  }

  // A moderator muted or unmuted someone: me (then the composers follow), or, for moderators,
  // anyone (their buttons and the presence list change).
  memberMuted({ user_id: userId, muted }) {
    if (userId === this.me.id) {
      this.me.muted = muted;
      this.announce(
        muted ? "A moderator has muted you in this chat." : "A moderator has unmuted you: you can post again.",
      );
      this.applyState({});
    }
    if (this.me.moderator) {
      const ids = new Set(this.messages.muted);
      if (muted) ids.add(userId);
      else ids.delete(userId);
      this.messages.setMuted([...ids]);
      if (this.people) this.showPresence(this.people);
    }
  }

  wasRemoved() {
    this.stop();
    this.setStatus("You have left the chat: you can no longer take part in it from this page. Reload the page to see what you can still read.");
  }

  // Stop taking part: no more rejoining; composers, votes and the moderators' tools go, and
  // what was waiting to be sent goes back to its box, read-only with its note, to copy.
  stop() {
    this.removed = true;
    this.socket.disconnect();
    this.followWindow({}); // the chat's window no longer concerns them
    for (const item of this.outbox.splice(0)) {
      item.placeholder?.remove();
      restoreText(item.form, item.body);
      fieldError(item.form, "Not sent: you can no longer take part in the chat from this page");
    }
    this.applyState({});
  }

  startModeratorTools() {
    const tools = this.root.querySelector("[data-moderator-tools]");
    if (!tools) return;
    const changed = (ack) => this.applyState(ack.state);
    tools.querySelector("[data-slow-mode-form]").addEventListener("submit", (event) => {
      event.preventDefault();
      const seconds = Number(tools.querySelector("select").value);
      this.request("slow_mode", { event_id: this.eventId, seconds }, (ack) => {
        changed(ack);
        const now = seconds ? `on: one message every ${plural(seconds, "second", "seconds")}` : "off";
        this.setStatus(`Slow mode is ${now}.`, 8000);
      });
    });
    tools.querySelector("[data-close-chat]").addEventListener("click", () => {
      if (!window.confirm("Close the chat for everyone? You can reopen it.")) return;
      this.request("close", { event_id: this.eventId }, changed);
    });
    tools.querySelector("[data-reopen-chat]").addEventListener("click", () => {
      this.request("reopen", { event_id: this.eventId }, changed);
    });
  }
}
