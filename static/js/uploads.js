// A file over the library's size limit is refused as soon as it is chosen, in the words the
// server would use, and the choice is cleared: sent, a file well over the limit would make the
// server refuse the whole request (the 413 page), and what was typed in the rest of the form
// would have to be found again with the browser's Back button. Without JavaScript the server
// refuses it instead: beside the field for a file a little over the limit, on that page for one
// far over it.

const ERROR_CLASS = "nhsuk-form-group--error";

function fieldParts(input) {
  const group = input.closest(".nhsuk-form-group");
  // The NHS.UK file upload component hides the input behind a button that takes its id.
  const button = group.querySelector(".nhsuk-file-upload__drop-button");
  return { group, described: button ? [input, button] : [input] };
}

function describe(elements, id, on) {
  for (const element of elements) {
    const ids = (element.getAttribute("aria-describedby") || "").split(" ").filter((each) => each && each !== id);
    if (on) ids.push(id);
    if (ids.length) element.setAttribute("aria-describedby", ids.join(" "));
    else element.removeAttribute("aria-describedby");
  }
}

function clearError(input) {
  const { group, described } = fieldParts(input);
  const id = `${input.name}-size-error`;
  document.getElementById(id)?.remove();
  describe(described, id, false);
  if (!group.querySelector(".nhsuk-error-message:not([hidden])")) group.classList.remove(ERROR_CLASS);
}

function showError(input, text) {
  const { group, described } = fieldParts(input);
  const id = `${input.name}-size-error`;
  // A new element each time, so that the alert is announced again for a second large file.
  clearError(input);
  // One message per field: one the page came back with (say, that no file was chosen) gives way.
  for (const other of group.querySelectorAll(".nhsuk-error-message")) {
    other.hidden = true;
    describe(described, other.id, false);
  }
  const message = document.createElement("span");
  message.className = "nhsuk-error-message";
  message.id = id;
  message.setAttribute("role", "alert");
  const prefix = document.createElement("span");
  prefix.className = "nhsuk-u-visually-hidden";
  prefix.textContent = "Error:";
  message.append(prefix, ` ${text}`);
  // After the label and hint; before the field.
  group.insertBefore(message, group.querySelector(".nhsuk-file-upload__drop-zone") || input);
  describe(described, id, true);
  group.classList.add(ERROR_CLASS);
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
