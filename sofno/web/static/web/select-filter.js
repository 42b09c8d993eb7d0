// Type-to-filter for long <select>s (the customer of a device or ticket, 100+ names).
// Any page: <select data-searchable="Type to filter" data-searchable-count="%(shown)s of %(total)s">
// gets a search box above it; typing keeps only the options whose text holds every
// word typed (accents and case ignored: "cafe" finds "Café"). The <select> stays the
// real control: the form posts it as before, and without JavaScript it is a plain select.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function enhance(select) {
    if (select.dataset.searchableReady || select.querySelector("optgroup")) return;
    select.dataset.searchableReady = "1";
    const options = Array.from(select.options).map((option) => ({ option, text: fold(option.text) }));
    const input = document.createElement("input");
    input.type = "search";
    input.className = "form-control form-control-sm mb-1 select-filter";
    input.placeholder = select.dataset.searchable;
    input.autocomplete = "off";
    input.setAttribute("aria-label", select.dataset.searchable);
    if (select.id) input.setAttribute("aria-controls", select.id);
    const count = document.createElement("div");
    count.className = "form-text mt-0 select-filter-count";
    count.setAttribute("aria-live", "polite");
    select.before(input);
    select.after(count);

    function apply() {
      const words = fold(input.value).split(/\s+/).filter(Boolean);
      const before = select.value;
      const matches = options.filter(
        ({ option, text }) => option.value !== "" && words.every((word) => text.includes(word))
      );
      let shown;
      if (!words.length) {
        shown = options;
      } else if (select.multiple) {
        // Chosen options stay (hidden ones would not be posted).
        shown = options.filter(({ option }) => option.selected || matches.some((m) => m.option === option));
      } else {
        shown = matches.length ? matches : options.filter(({ option }) => option.selected);
      }
      select.replaceChildren(...shown.map(({ option }) => option));
      if (!select.multiple && matches.length && !matches.some(({ option }) => option.value === before)) {
        select.value = matches[0].option.value; // what the box now shows is what is posted
      }
      if (!select.multiple && select.value !== before) {
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      const total = options.filter(({ option }) => option.value !== "").length;
      count.textContent = words.length
        ? select.dataset.searchableCount.replace("%(shown)s", matches.length).replace("%(total)s", total)
        : "";
    }

    input.addEventListener("input", apply);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault(); // choosing, not sending the form
        select.focus();
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        select.focus();
      }
    });
    // A form reset brings every option back.
    if (select.form) select.form.addEventListener("reset", () => { input.value = ""; setTimeout(apply); });
  }

  function enhanceAll(root) {
    root.querySelectorAll("select[data-searchable]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => enhanceAll(document));
  } else {
    enhanceAll(document);
  }
  window.sofnoSearchableSelects = enhanceAll; // for parts of a page loaded later
})();
