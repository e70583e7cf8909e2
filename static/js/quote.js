// Quote what the reader selected: with some text of a post selected, its Quote link carries the
// selection to the reply form. Without JavaScript (or a selection) the whole post is quoted.
export function startSelectionQuotes() {
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-quote]");
    if (!link) return;
    const selection = window.getSelection();
    const article = link.closest("article");
    if (!selection || selection.isCollapsed || !article) return;
    const range = selection.getRangeAt(0);
    const body = article.querySelector(".pl-user-content");
    if (!body || !body.contains(range.commonAncestorContainer)) return;
    const text = selection.toString().trim();
    if (!text) return;
    const url = new URL(link.href);
    url.searchParams.set("selection", text.slice(0, 5000));
    link.href = url.toString();
  });
}
