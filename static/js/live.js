// The header's notification count, kept up to date over Socket.IO. Pages work without it: the
// count is also rendered on every page load.
import { io } from "/static/vendor/socket.io/socket.io.esm.min.js";

export function startLiveCount() {
  const count = document.querySelector("[data-notification-count]");
  if (!count) return;
  const label = document.querySelector("[data-notification-label]");
  const announcer = document.createElement("div");
  announcer.className = "nhsuk-u-visually-hidden";
  announcer.setAttribute("aria-live", "polite");
  document.body.appendChild(announcer);

  const socket = io({ transports: ["websocket", "polling"] });
  // One of my sign-ins ended, or my account changed: the server has closed my room. Connect
  // again, which rejoins it while this browser is still signed in.
  socket.on("sign_in_changed", () => socket.disconnect().connect());
  socket.on("notifications", ({ unread }) => {
    const previous = Number(count.textContent);
    count.textContent = String(unread);
    count.dataset.count = String(unread);
    const words = `${unread} unread notification${unread === 1 ? "" : "s"}`;
    if (label) label.textContent = `, ${words}`;
    if (unread > previous) announcer.textContent = `You have ${words}`;
  });
}
