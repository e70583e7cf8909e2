// Start the NHS.UK frontend components, then peerlearn's own small enhancements.
import { initAll } from "/static/vendor/nhsuk/nhsuk-frontend.min.js";
import { startEditors } from "/static/js/editor.js";
import { startLiveCount } from "/static/js/live.js";
import { startSelectionQuotes } from "/static/js/quote.js";

initAll();
startEditors();
startLiveCount();
startSelectionQuotes();
