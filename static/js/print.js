// "Print or save as PDF" on the printable case study: the button opens the browser's print
// dialogue. Without JavaScript the button stays hidden and the hint beside it explains Ctrl+P.
const button = document.querySelector("[data-print]");
if (button) {
  button.hidden = false;
  const hint = document.querySelector("[data-print-hint]");
  if (hint) hint.hidden = true;
  button.addEventListener("click", () => window.print());
}
