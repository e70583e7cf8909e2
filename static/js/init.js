// Start the NHS.UK frontend components, then peerlearn's own small enhancements.
import { initAll } from "/static/vendor/nhsuk/nhsuk-frontend.min.js";
import { startDrafts } from "/static/js/drafts.js";
import { startEditors } from "/static/js/editor.js";
import { startFilterPanels } from "/static/js/filters.js";
import { startLiveCount } from "/static/js/live.js";
import { startSelectionQuotes } from "/static/js/quote.js";
import { startUploadLimits } from "/static/js/uploads.js";

initAll();
startDrafts();
startEditors();
startFilterPanels();
startLiveCount();
startSelectionQuotes();
startUploadLimits();
// The event page's live chat: loaded only on pages that have one (before it opens, only the
// timer that says when it has).
if (document.querySelector("[data-live-chat]")) {
  import("/static/js/live-chat.js").then(({ startLiveChat }) => startLiveChat());
} else if (document.querySelector("[data-chat-opens-in]")) {
  import("/static/js/live-opening.js").then(({ startChatOpening }) => startChatOpening());
}
