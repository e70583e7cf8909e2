// Before an event's chat opens, its page has no live panel, only a sentence saying when it opens
// ([data-chat-opens-in], templates/events/detail.html). If the page is still open then, the
// sentence says the chat has opened, with a link that shows it; the sentence is a polite live
// region, so a screen reader hears the change, and focus never moves. The server gives the
// seconds to wait by its own clock, so this computer's clock does not matter; a chat further off
// than a timer can wait (LONGEST_TIMER) is left alone.
import { h, LONGEST_TIMER } from "/static/js/live-dom.js";

export function startChatOpening() {
  const notice = document.querySelector("[data-chat-opens-in]");
  if (!notice) return;
  const delay = Number(notice.dataset.chatOpensIn) * 1000;
  if (!Number.isFinite(delay) || delay > LONGEST_TIMER) return;
  setTimeout(() => {
    const again = window.location.href.split("#")[0]; // the page again, now with the live chat
    const link = h("a", { href: again }, "show the live chat");
    notice.replaceChildren("The live chat and Q&A are open now: ", link, ".");
  }, delay);
}
