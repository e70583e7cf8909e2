// The live Q&A panel of an event page: questions sorted by votes or in the order asked (the
// order changes live as votes arrive), voting with a toggle button, asking through the chat's
// send queue, withdrawing your own question, and the moderators' answered / dismiss / remove
// buttons. A question the server says is no longer for this reader (question_removed: withdrawn,
// removed, or dismissed and not theirs) leaves the screen. Markup mirrors question_item in
// templates/events/_live_macros.html.
import {
  clearFieldError,
  fieldError,
  h,
  keepingFocus,
  plainText,
  syncButtons,
  timeElement,
} from "/static/js/live-dom.js";

const STATUS_TAGS = {
  answered: ["Answered", "nhsuk-tag--green"],
  dismissed: ["Dismissed", "nhsuk-tag--grey"],
};

export class QuestionPanel {
  constructor(root, chat) {
    this.chat = chat;
    this.list = root.querySelector("[data-question-list]");
    this.heading = root.querySelector("#qa-heading");
    this.empty = root.querySelector("[data-no-questions]");
    this.form = root.querySelector("[data-ask-form]");
    this.sortLinks = [...root.querySelectorAll("[data-qa-sort]")];
    this.order = root.dataset.qaOrder === "time" ? "time" : "votes";
    this.questions = new Map(); // id -> payload
    this.elements = new Map(); // id -> <li>
    this.voted = new Set();
    this.writable = false;
    this.loaded = false;

    for (const link of this.sortLinks) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        this.sortBy(link.dataset.qaSort);
        history.replaceState(null, "", link.href.split("#")[0]);
      });
    }
    this.list.addEventListener("click", (event) => this.clicked(event));
    this.form?.addEventListener("submit", (event) => this.submitted(event));
  }

  // The whole list from a join acknowledgement: the first replaces the server-rendered list, a
  // rejoin updates the questions in place (so a focused button keeps its focus).
  load(questions, voted) {
    this.voted = new Set(voted);
    if (!this.loaded) this.list.replaceChildren();
    this.loaded = true;
    const current = new Set(questions.map((question) => question.id));
    for (const [id, element] of this.elements) {
      if (current.has(id)) continue;
      this.chat.announcer.forget(`question-${id}`);
      element.remove();
      this.elements.delete(id);
      this.questions.delete(id);
    }
    for (const question of questions) this.upsert(question, { quiet: true, sort: false });
    this.sort();
  }

  // A question asked, voted on or marked: add it or update it in place, then re-sort.
  upsert(question, { quiet = false, sort = true } = {}) {
    const known = this.elements.get(question.id);
    this.questions.set(question.id, question);
    if (known) {
      this.update(known, question);
    } else {
      const element = this.render(question);
      this.elements.set(question.id, element);
      this.list.append(element);
      if (!quiet && question.author.id !== this.chat.me.id && this.visible(question)) {
        this.chat.announce(
          `New question from ${question.author.name}: ${plainText(question.body_html)}`,
          `question-${question.id}`,
        );
      }
    }
    this.empty.hidden = [...this.questions.values()].some((q) => this.visible(q));
    if (sort) this.sort();
  }

  // The server sends a dismissed question only to moderators and its asker.
  visible(question) {
    return question.status !== "dismissed" || this.chat.me.moderator || this.mine(question);
  }

  mine(question) {
    return question.author.id !== null && question.author.id === this.chat.me.id;
  }

  // A question withdrawn, removed, or dismissed and not for this reader: it leaves the list. If
  // it held the focus, the focus goes to the Q&A heading rather than to the page's body.
  remove(id) {
    this.chat.announcer.forget(`question-${id}`);
    const element = this.elements.get(id);
    if (!element) return;
    const hadFocus = element.contains(document.activeElement);
    element.remove();
    this.elements.delete(id);
    this.questions.delete(id);
    this.voted.delete(id);
    this.empty.hidden = [...this.questions.values()].some((q) => this.visible(q));
    if (hadFocus) {
      this.heading.tabIndex = -1;
      this.heading.focus({ preventScroll: true });
    }
  }

  render(question) {
    const item = h(
      "li",
      { class: "pl-question", id: `question-${question.id}`, "data-question-id": question.id },
      h(
        "p",
        { class: "pl-question__votes" },
        h("span", { "data-vote-count": true }),
        " ",
        h("span", { "data-vote-word": true }),
      ),
      h(
        "div",
        { class: "pl-question__main" },
        h("div", { class: "pl-user-content" }),
        h(
          "p",
          { class: "pl-meta pl-question__meta" },
          `Asked by ${[question.author.name, question.author.organisation].filter(Boolean).join(", ")} at `,
          timeElement(question.created_at, ""),
          h("span", { "data-status-tag": true }),
        ),
        h("div", { class: "pl-question__actions" }),
      ),
    );
    // The server's text pipeline has already sanitised this HTML.
    item.querySelector(".pl-user-content").innerHTML = question.body_html;
    this.update(item, question);
    return item;
  }

  update(item, question) {
    item.dataset.votes = question.votes;
    item.dataset.status = question.status;
    item.hidden = !this.visible(question);
    item.querySelector("[data-vote-count]").textContent = String(question.votes);
    item.querySelector("[data-vote-word]").textContent = question.votes === 1 ? "vote" : "votes";
    const tag = STATUS_TAGS[question.status];
    const shown = tag ? [" ", h("strong", { class: `nhsuk-tag ${tag[1]}` }, tag[0])] : [];
    item.querySelector("[data-status-tag]").replaceChildren(...shown);
    this.renderActions(item, question);
  }

  // Vote toggle and moderator buttons, changed in place so a focused button keeps its focus.
  renderActions(item, question) {
    const by = `the question by ${question.author.name}`;
    const wanted = [];
    if (this.writable && question.status === "open") {
      const pressed = String(this.voted.has(question.id));
      wanted.push({
        action: "vote",
        text: "Vote",
        hidden: ` for ${by}`,
        attributes: { "aria-pressed": pressed, class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small pl-vote" },
      });
    }
    if (this.chat.me.moderator) {
      const marks = [
        ["answered", "Mark answered", `: ${by}`],
        ["dismissed", "Dismiss", ` ${by}`],
        ["open", "Reopen", ` ${by}`],
      ];
      for (const [status, text, hidden] of marks) {
        if (question.status !== status) wanted.push({ action: status, text, hidden });
      }
    }
    // The same words as the plain form (remove_question_form in _live_macros.html).
    if (this.mine(question)) {
      wanted.push({ action: "remove", text: "Withdraw", hidden: " your question" });
    } else if (this.chat.me.moderator) {
      wanted.push({
        action: "remove",
        text: "Remove",
        hidden: ` ${by}`,
        attributes: { class: "nhsuk-button nhsuk-button--warning nhsuk-button--small" },
      });
    }
    syncButtons(item.querySelector(".pl-question__actions"), wanted);
  }

  setWritable(writable) {
    this.writable = writable;
    for (const [id, element] of this.elements) this.renderActions(element, this.questions.get(id));
  }

  sortBy(order) {
    this.order = order === "time" ? "time" : "votes";
    for (const link of this.sortLinks) {
      if (link.dataset.qaSort === this.order) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
    this.sort();
  }

  sort() {
    const byVotes = (a, b) => b.votes - a.votes || a.id - b.id;
    const ordered = [...this.questions.values()].sort(this.order === "votes" ? byVotes : (a, b) => a.id - b.id);
    const elements = ordered.map((q) => this.elements.get(q.id));
    const current = [...this.list.children];
    if (elements.every((element, index) => current[index] === element)) return;
    keepingFocus(() => elements.forEach((element) => this.list.append(element)));
  }

  clicked(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = Number(button.closest("[data-question-id]").dataset.questionId);
    const action = button.dataset.action;
    if (action === "vote") {
      const up = button.getAttribute("aria-pressed") !== "true";
      this.chat.request("vote", { question_id: id, up }, (ack) => {
        if (ack.voted) this.voted.add(id);
        else this.voted.delete(id);
        this.upsert(ack.question);
        this.chat.announce(ack.voted ? "Your vote has been counted." : "Your vote has been taken back.");
      });
    } else if (action === "remove") {
      // A removed question cannot be brought back, so ask first.
      const own = this.mine(this.questions.get(id));
      if (!window.confirm(own ? "Withdraw your question for everyone?" : "Remove this question for everyone?")) return;
      this.chat.request("remove_question", { question_id: id }, () => {
        this.remove(id);
        this.chat.announce(own ? "Your question has been withdrawn." : "The question has been removed.");
      });
    } else {
      this.chat.request("answer", { question_id: id, status: action }, (ack) => this.upsert(ack.question));
    }
  }

  // Ask through the chat's queue of unacknowledged sends (resent with the same client_id).
  submitted(event) {
    if (!this.chat.ready()) return; // not connected yet: the plain form posts it
    event.preventDefault();
    const box = this.form.querySelector("textarea");
    const body = box.value.trim();
    if (!body) {
      fieldError(this.form, "Write your question");
      box.focus(); // the box is described by the error, so it is read out
      return;
    }
    clearFieldError(this.form);
    box.value = "";
    this.chat.enqueue("ask", body, this.form, (ack) => {
      this.upsert(ack.question);
      this.chat.announce("Your question has been added to the Q&A.");
    });
  }
}
