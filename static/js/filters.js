// Filters beside a list of results (the filter_panel macro). On a phone they come before the
// results, so they are folded under their toggle (which says when some are in use) unless one has
// an error to show; on a wider screen, where they sit beside the results, they are always open.
// Without JavaScript they stay open.
const NARROW = window.matchMedia("(max-width: 48.0525em)");

export function startFilterPanels() {
  const panels = document.querySelectorAll("[data-filter-panel]");
  if (!panels.length) return;
  const fit = () => {
    for (const panel of panels) panel.open = !NARROW.matches || panel.hasAttribute("data-keep-open");
  };
  fit();
  NARROW.addEventListener("change", fit);
}
