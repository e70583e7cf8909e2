// Keeps what a member is writing (a new thread, a reply, an edit, a case study) in this tab's
// session storage as they type, so a reload or a link followed by mistake loses nothing; sending
// the form forgets it (a preview keeps it). Only this tab can read it, it is gone when the tab
// closes, and it is cleared on any page seen signed out, so a shared computer keeps nothing.
// Forms opt in with data-draft="<what is being written>"; without JavaScript nothing is kept
// beyond what the server puts back after an error or a preview.
const PREFIX = "peerlearn:draft:";

function forgetAll() {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(PREFIX)) sessionStorage.removeItem(key);
  }
}

function notice(onDiscard) {
  const box = document.createElement("div");
  box.className = "nhsuk-inset-text pl-draft-notice";
  box.setAttribute("role", "status");
  const text = document.createElement("p");
  text.append("We put back what you were writing here. ");
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "pl-link-button";
  discard.textContent = "Discard it";
  discard.addEventListener("click", () => {
    onDiscard();
    box.remove();
  });
  text.append(discard);
  box.append(text);
  return box;
}

export function startDrafts() {
  const user = document.querySelector('meta[name="peerlearn-user"]')?.content;
  if (!user) {
    forgetAll();
    return;
  }
  for (const form of document.querySelectorAll("form[data-draft]")) {
    const fields = [...form.querySelectorAll("textarea, input[type=text]")].filter(
      (field) => field.name && !field.readOnly && !field.disabled,
    );
    // Hidden fields marked data-draft-version (an edit's "based_on") say which saved text the
    // draft was written over: kept with it and put back with it, so that a draft restored after
    // someone else saved the post still meets the server's edit-conflict check.
    const versions = [...form.querySelectorAll("input[type=hidden][data-draft-version]")];
    const sent = new Map(versions.map((version) => [version, version.value]));
    const key = (field) => `${PREFIX}${user}:${form.dataset.draft}:${field.name}`;
    const remember = (field) => {
      sessionStorage.setItem(key(field), field.value);
      for (const version of versions) {
        if (sessionStorage.getItem(key(version)) === null) {
          sessionStorage.setItem(key(version), version.value);
        }
      }
    };
    const forget = (field) => {
      sessionStorage.removeItem(key(field));
      if (fields.every((other) => sessionStorage.getItem(key(other)) === null)) {
        for (const version of versions) sessionStorage.removeItem(key(version));
      }
    };
    const restored = [];
    for (const field of fields) {
      const saved = sessionStorage.getItem(key(field));
      // Only into a field as the server sent it: never over what was typed on this page.
      if (saved !== null && saved !== field.value && field.value === field.defaultValue) {
        field.value = saved;
        restored.push(field);
      }
      field.addEventListener("input", () => {
        if (field.value === field.defaultValue) forget(field);
        else remember(field);
      });
    }
    if (restored.length) {
      for (const version of versions) {
        version.value = sessionStorage.getItem(key(version)) ?? version.value;
      }
    }
    for (const field of fields) {
      // What was typed before this script ran, or what the browser itself put back.
      if (field.value !== field.defaultValue && !restored.includes(field)) remember(field);
    }
    form.addEventListener("submit", (event) => {
      if (event.submitter?.value === "preview") return;
      for (const field of fields) forget(field);
    });
    if (restored.length) {
      form.prepend(
        notice(() => {
          for (const version of versions) version.value = sent.get(version);
          for (const field of restored) {
            field.value = field.defaultValue;
            forget(field);
            field.dispatchEvent(new Event("input"));
          }
          restored[0].focus();
        }),
      );
      for (const field of restored) field.dispatchEvent(new Event("input"));
    }
  }
}
