// Live preview for post editors. Without JavaScript the Preview button does the same on the server.
export function startEditors() {
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  for (const editor of document.querySelectorAll("[data-preview-url]")) {
    const textarea = editor.querySelector("textarea");
    if (!textarea) continue;
    // Reuse the panel the Preview button drew, if there is one; otherwise add one after the box.
    let panel = document.querySelector(".pl-preview:not(.pl-preview--live)");
    let body = panel?.querySelector(".pl-user-content");
    if (!panel || !body) {
      panel = document.createElement("section");
      panel.className = "pl-preview pl-preview--live";
      panel.setAttribute("aria-label", "Live preview");
      const heading = document.createElement("h2");
      heading.className = "nhsuk-heading-s";
      heading.textContent = "Live preview";
      body = document.createElement("div");
      body.className = "pl-user-content";
      panel.append(heading, body);
      editor.after(panel);
    }

    let timer;
    const update = async () => {
      const form = new FormData();
      form.append("body", textarea.value);
      const response = await fetch(editor.dataset.previewUrl, {
        method: "POST",
        body: form,
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const { html } = await response.json();
      // The server's text pipeline has already sanitised this HTML.
      body.innerHTML = html;
      panel.hidden = !textarea.value.trim();
    };
    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, 400);
    });
    panel.hidden = !textarea.value.trim();
    if (textarea.value.trim()) update();
  }
}
