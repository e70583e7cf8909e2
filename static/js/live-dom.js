// Small DOM helpers shared by the live chat modules (live-chat.js, live-questions.js).

// The longest delay setTimeout can wait (2^31 - 1 ms, about 24.8 days): a longer one fires at once.
export const LONGEST_TIMER = 2 ** 31 - 1;

// An element with attributes and children: h("p", {class: "x"}, "text", otherElement).
// A false, null or undefined attribute or child is left out; true gives an empty attribute.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

// A visually hidden span: words a screen reader needs that the layout makes obvious to the eye.
export function hiddenText(text) {
  return h("span", { class: "nhsuk-u-visually-hidden" }, text);
}

// A small button in the NHS.UK style for actions on a chat item.
export function smallButton(text, attributes = {}, hidden = "") {
  return h(
    "button",
    { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", ...attributes },
    text,
    hidden ? hiddenText(hidden) : null,
  );
}

// A new id for a message or question, so that resending it after a reconnect stores it once.
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

const clock = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" });

// A <time> showing an ISO 8601 timestamp as a London clock time, like the server renders it.
export function timeElement(iso, className = "pl-meta") {
  return h("time", { class: className, datetime: iso }, clock.format(new Date(iso)));
}

export function clockTime(iso) {
  return clock.format(new Date(iso));
}

// The text of sanitised HTML from the server, for announcements.
export function plainText(html, limit = 160) {
  const holder = document.createElement("div");
  holder.innerHTML = html;
  const text = holder.textContent.replace(/\s+/g, " ").trim();
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// Show an error beside a form's text box the NHS.UK way (the same markup the server renders),
// keeping what was typed; clearFieldError removes it.
export function fieldError(form, message) {
  const box = form.querySelector("textarea");
  const group = box.closest(".nhsuk-form-group");
  const id = `${box.id}-error`;
  let error = form.querySelector(`#${CSS.escape(id)}`);
  if (!error) {
    error = h("span", { class: "nhsuk-error-message", id });
    box.before(error);
  }
  error.replaceChildren(hiddenText("Error:"), ` ${message}`);
  group.classList.add("nhsuk-form-group--error");
  box.classList.add("nhsuk-textarea--error");
  describedBy(box, id, true);
}

export function clearFieldError(form) {
  const box = form.querySelector("textarea");
  const error = form.querySelector(`#${CSS.escape(`${box.id}-error`)}`);
  if (!error) return;
  error.remove();
  box.closest(".nhsuk-form-group").classList.remove("nhsuk-form-group--error");
  box.classList.remove("nhsuk-textarea--error");
  describedBy(box, error.id, false);
}

// Add the element with this id to what describes a form field (``on``), or take it away.
export function describedBy(field, id, on) {
  const ids = new Set((field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
  if (on) ids.add(id);
  else ids.delete(id);
  if (ids.size) field.setAttribute("aria-describedby", [...ids].join(" "));
  else field.removeAttribute("aria-describedby");
}

// Put text that could not be sent back in its box, before anything typed since.
export function restoreText(form, text) {
  const box = form.querySelector("textarea");
  box.value = box.value.trim() ? `${text}\n${box.value}` : text;
}

// Announcements through an aria-live="polite" region: the newest few are kept, so several
// arriving at once are all read, and focus never moves. One ``about`` a message or question
// (its element's id) is taken back when that goes from the screen (removed, hidden, withdrawn):
// the region is in the page too, and a screen reader can still read what it holds.
export class Announcer {
  constructor(region) {
    this.region = region;
  }

  say(text, about = null) {
    if (!this.region || !text) return;
    this.region.append(h("p", { "data-about": about }, text));
    while (this.region.childElementCount > 5) this.region.firstElementChild.remove();
  }

  forget(about) {
    for (const said of this.region?.querySelectorAll(`[data-about="${CSS.escape(about)}"]`) || []) said.remove();
  }
}

// Run a DOM change that may move the focused element, then put focus back where it was (moving a
// node in the DOM blurs it); nothing else ever moves focus.
export function keepingFocus(change) {
  const active = document.activeElement;
  change();
  if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
}

// Make a container hold exactly the wanted buttons ({action, text, hidden, attributes}), in order.
// Buttons already there are kept and relabelled rather than replaced, so one the reader has just
// pressed keeps its focus.
export function syncButtons(container, wanted) {
  const existing = new Map([...container.querySelectorAll("button[data-action]")].map((b) => [b.dataset.action, b]));
  const buttons = wanted.map(({ action, text, hidden = "", attributes = {} }) => {
    let button = existing.get(action);
    if (!button) button = smallButton(text, { "data-action": action, ...attributes }, hidden);
    else button.replaceChildren(text, ...(hidden ? [hiddenText(hidden)] : []));
    for (const [name, value] of Object.entries(attributes)) button.setAttribute(name, String(value));
    return button;
  });
  for (const [action, button] of existing) if (!wanted.some((w) => w.action === action)) button.remove();
  const current = [...container.children];
  if (buttons.every((button, index) => current[index] === button) && current.length === buttons.length) return;
  keepingFocus(() => buttons.forEach((button) => container.append(button)));
}
