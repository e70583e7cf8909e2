// A file over the library's size limit is refused as soon as it is chosen, in the words the
// server would use, and the choice is cleared: sent, it would make the server refuse the whole
// request (the 413 page), and what was typed in the rest of the form would have to be found
// again with the browser's Back button. Without JavaScript the server says the same.

const ERROR_CLASS = "nhsuk-form-group--error";

function fieldParts(input) {
  const group = input.closest(".nhsuk-form-group");
  // The NHS.UK file upload component hides the input behind a button that takes its id.
  const button = group.querySelector(".nhsuk-file-upload__drop-button");
  return { group, described: button ? [input, button] : [input] };
}

function showError(input, text) {
  const { group, described } = fieldParts(input);
  const id = `${input.name}-size-error`;
  let message = document.getElementById(id);
  if (!message) {
    message = document.createElement("span");
    message.className = "nhsuk-error-message";
    message.id = id;
    message.setAttribute("role", "alert");
    const prefix = document.createElement("span");
    prefix.className = "nhsuk-u-visually-hidden";
    prefix.textContent = "Error:";
    message.append(prefix, " ", document.createElement("span"));
    // After the label, hint and any message the page came with; before the field.
    group.insertBefore(message, group.querySelector(".nhsuk-file-upload__drop-zone") || input);
    for (const element of described) {
      const ids = (element.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      element.setAttribute("aria-describedby", [...ids, id].join(" "));
    }
  }
  message.lastChild.textContent = text;
  group.classList.add(ERROR_CLASS);
}

function clearError(input) {
  const { group, described } = fieldParts(input);
  const id = `${input.name}-size-error`;
  const message = document.getElementById(id);
  if (!message) return;
  message.remove();
  for (const element of described) {
    const ids = (element.getAttribute("aria-describedby") || "").split(" ").filter((each) => each && each !== id);
    if (ids.length) element.setAttribute("aria-describedby", ids.join(" "));
    else element.removeAttribute("aria-describedby");
  }
  // The server's own message for this field, if the page came back with one, keeps its style.
  if (!group.querySelector(".nhsuk-error-message")) group.classList.remove(ERROR_CLASS);
}

export function startUploadLimits(root = document) {
  for (const input of root.querySelectorAll("input[type=file][data-max-bytes]")) {
    const limit = Number(input.dataset.maxBytes);
    input.addEventListener("change", () => {
      const chosen = [...input.files];
      if (!chosen.length) return; // cleared: any message stays until a file is chosen
      if (chosen.some((file) => file.size > limit)) {
        showError(input, input.dataset.tooLarge);
        input.value = "";
        // The component's status goes back to "No file chosen".
        input.dispatchEvent(new Event("change"));
      } else {
        clearError(input);
      }
    });
  }
}
