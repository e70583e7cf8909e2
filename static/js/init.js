// Start the NHS.UK frontend components, then peerlearn's own small enhancements.
import { initAll } from "/static/vendor/nhsuk/nhsuk-frontend.min.js";
import { startEditors } from "/static/js/editor.js";
import { startLiveCount } from "/static/js/live.js";

initAll();
startEditors();
startLiveCount();
