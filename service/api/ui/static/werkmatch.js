// Werkmatch werkregie: loads server-rendered fragments into the page, with the API key as
// "Authorization: Bearer". Navigation lives in the URL hash, so links, reload and the back
// button work and every link is an ordinary, keyboard-reachable <a>.
"use strict";
(() => {
  const KEY = "werkmatch.sleutel";
  const $ = (id) => document.getElementById(id);
  let loaded = 0;

  const routes = [
    [/^\/vacatures$/, () => "/ui/f/vacancies"],
    [/^\/vacature\/([^/]+)\/([^/]+)$/, (m) => `/ui/f/vacancies/${m[1]}/${m[2]}`],
    [/^\/kandidaat\/([^/]+)$/, (m) => `/ui/f/candidates/${m[1]}`],
    [/^\/nieuw$/, () => "/ui/f/new-matches"],
    [/^\/niet-gevonden$/, () => "/ui/f/unmatched"],
  ];

  function fragmentUrl(hash) {
    const [path, query] = (hash.replace(/^#/, "") || "/vacatures").split("?");
    for (const [pattern, build] of routes) {
      const m = path.match(pattern);
      if (m) return build(m.map((p) => encodeURIComponent(decodeURIComponent(p)))) +
        (query ? `?${query}` : "");
    }
    return "/ui/f/vacancies";
  }

  function loggedIn(on) {
    $("inloggen").hidden = on;
    $("inhoud").hidden = !on;
    $("menu").hidden = !on;
  }

  async function errorText(resp) {
    if (resp.status === 401) return "de API-sleutel is ongeldig, ingetrokken of verlopen; log opnieuw in";
    if (resp.status === 403) return "deze API-sleutel heeft geen toegang tot dit onderdeel";
    if (resp.status === 429) return "te veel verzoeken met deze sleutel; probeer het zo opnieuw";
    try {
      const body = await resp.json();
      if (Array.isArray(body.detail)) {
        return body.detail.map((d) => `${d.field}: ${d.message}`).join("; ");
      }
      return String(body.detail || body.error);
    } catch {
      return `HTTP ${resp.status}`;
    }
  }

  async function load() {
    const key = sessionStorage.getItem(KEY);
    if (!key) return loggedIn(false);
    loggedIn(true);
    const status = $("status");
    document.body.dataset.loading = "1";
    status.textContent = "Laden…";
    try {
      const resp = await fetch(fragmentUrl(location.hash), {
        headers: { Authorization: `Bearer ${key}`, Accept: "text/html" },
      });
      if (!resp.ok) {
        status.textContent = `Er ging iets mis: ${await errorText(resp)}`;
        return;
      }
      $("scherm").innerHTML = await resp.text();
      const title = $("titel");
      if (title) {
        document.title = `${title.textContent.trim()} – Werkmatch`;
        if (loaded++ > 0) title.focus();
      }
      status.textContent = "";
    } catch (err) {
      status.textContent = `De server is niet bereikbaar (${err.message}).`;
    } finally {
      document.body.dataset.loading = "0";
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id === "inlog-form") {
      event.preventDefault();
      sessionStorage.setItem(KEY, $("sleutel").value);
      $("sleutel").value = "";
      load();
      return;
    }
    if (!form.dataset.route) return;
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value !== "") params.append(name, value);
    const target = form.dataset.route + (params.toString() ? `?${params}` : "");
    if (location.hash === target) load();
    else location.hash = target;
  });

  const STATUS_LABELS = {
    seen: "Gezien", proposed: "Voorgesteld", rejected: "Afgewezen", placed: "Geplaatst",
  };

  // "Voorstellen" / "Afwijzen": PUT the match status, then show what the server stored.
  async function setStatus(button) {
    const box = button.closest("[data-status-url]");
    const shown = box.querySelector("[data-status]");
    const buttons = box.querySelectorAll("button[data-set-status]");
    buttons.forEach((b) => { b.disabled = true; });
    document.body.dataset.saving = "1";
    try {
      const resp = await fetch(box.dataset.statusUrl, {
        method: "PUT",
        headers: {
          Authorization: `Bearer ${sessionStorage.getItem(KEY)}`,
          "Content-Type": "application/json",
          Accept: "application/json",
        },
        body: JSON.stringify({ status: button.dataset.setStatus }),
      });
      if (!resp.ok) {
        $("status").textContent = `Opslaan mislukt: ${await errorText(resp)}`;
        return;
      }
      const stored = (await resp.json()).status;
      shown.dataset.status = stored;
      shown.textContent = STATUS_LABELS[stored] || stored;
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.setStatus === stored)));
      $("status").textContent = "";
    } catch (err) {
      $("status").textContent = `De server is niet bereikbaar (${err.message}).`;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      document.body.dataset.saving = "0";
    }
  }

  // CV upload: PUT the file as it is; show what was read and the suggestions, each with its
  // evidence and an "Overnemen" button. Text from the server goes in via textContent only.
  const CV_TYPES = {
    pdf: "application/pdf",
    docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    odt: "application/vnd.oasis.opendocument.text",
    txt: "text/plain",
  };
  const READ_ONLY = [
    "candidate_id",
    "created_at",
    "updated_at",
    "desired_occupations_esco",
    "inferred_occupations",
  ];
  const suggestions = new Map();

  function cvType(file) {
    const ext = file.name.split(".").pop().toLowerCase();
    return CV_TYPES[ext] || file.type || "application/octet-stream";
  }

  function authHeaders(extra) {
    return { Authorization: `Bearer ${sessionStorage.getItem(KEY)}`, Accept: "application/json", ...extra };
  }

  function showSuggestions(box, body) {
    const read = box.querySelector("[data-cv-read]");
    const pages = body.cv_document.pages === null ? "" : `${body.cv_document.pages} pagina('s), `;
    read.textContent = `Gelezen: ${pages}${body.cv_document.characters} tekens, ` +
      `${body.cv_document.words} woorden. De cv-tekst is bijgewerkt.`;
    const list = box.querySelector("[data-cv-suggestions]");
    list.replaceChildren();
    suggestions.clear();
    body.suggestions.forEach((s, i) => {
      suggestions.set(String(i), s);
      const li = document.createElement("li");
      li.className = "suggestion";
      li.dataset.field = s.field;
      const what = document.createElement("strong");
      what.textContent = s.label;
      const evidence = document.createElement("span");
      evidence.className = "evidence";
      const ctx = s.evidence.context;
      const at = ctx.indexOf(s.evidence.snippet);
      const mark = document.createElement("mark");
      mark.textContent = s.evidence.snippet;
      evidence.append("„", at >= 0 ? ctx.slice(0, at) : "", mark,
        at >= 0 ? ctx.slice(at + s.evidence.snippet.length) : "", "”");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.dataset.acceptSuggestion = String(i);
      button.textContent = "Overnemen";
      button.setAttribute("aria-label", `Overnemen: ${s.label}`);
      li.append(what, evidence, button);
      list.append(li);
    });
    if (!body.suggestions.length) {
      const li = document.createElement("li");
      li.textContent = "Geen voorstellen: het profiel heeft deze gegevens al, of het cv noemt ze niet.";
      list.append(li);
    }
    box.querySelector("[data-cv-result]").hidden = false;
  }

  async function uploadCv(form) {
    const box = form.closest("[data-cv-url]");
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    document.body.dataset.saving = "1";
    $("status").textContent = "CV wordt gelezen…";
    try {
      const resp = await fetch(box.dataset.cvUrl, {
        method: "PUT",
        headers: authHeaders({ "Content-Type": cvType(file) }),
        body: file,
      });
      if (!resp.ok) {
        $("status").textContent = `Uploaden mislukt: ${await errorText(resp)}`;
        return;
      }
      showSuggestions(box, await resp.json());
      $("status").textContent = "CV gelezen.";
    } catch (err) {
      $("status").textContent = `De server is niet bereikbaar (${err.message}).`;
    } finally {
      button.disabled = false;
      document.body.dataset.saving = "0";
    }
  }

  // "Overnemen": a normal candidate PUT of the current profile with the suggestion's fields
  // (a list field gets the value added to what is stored now).
  async function acceptSuggestion(button) {
    const box = button.closest("[data-candidate-url]");
    const s = suggestions.get(button.dataset.acceptSuggestion);
    button.disabled = true;
    document.body.dataset.saving = "1";
    try {
      const current = await fetch(box.dataset.candidateUrl, { headers: authHeaders({}) });
      if (!current.ok) {
        $("status").textContent = `Overnemen mislukt: ${await errorText(current)}`;
        button.disabled = false;
        return;
      }
      const profile = await current.json();
      READ_ONLY.forEach((name) => delete profile[name]);
      for (const [name, value] of Object.entries(s.update)) {
        profile[name] = Array.isArray(value) && Array.isArray(profile[name])
          ? [...new Set([...profile[name], ...value])]
          : value;
      }
      const resp = await fetch(box.dataset.candidateUrl, {
        method: "PUT",
        headers: authHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify(profile),
      });
      if (!resp.ok) {
        $("status").textContent = `Overnemen mislukt: ${await errorText(resp)}`;
        button.disabled = false;
        return;
      }
      button.textContent = "Overgenomen";
      button.setAttribute("aria-pressed", "true");
      button.closest("li").dataset.accepted = "1";
      $("status").textContent = `Overgenomen: ${s.label}.`;
    } catch (err) {
      $("status").textContent = `De server is niet bereikbaar (${err.message}).`;
      button.disabled = false;
    } finally {
      document.body.dataset.saving = "0";
    }
  }

  document.addEventListener("submit", (event) => {
    if (!event.target.matches("form[data-cv-upload]")) return;
    event.preventDefault();
    uploadCv(event.target);
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-set-status]");
    if (button) setStatus(button);
    const accept = event.target.closest("button[data-accept-suggestion]");
    if (accept && !accept.disabled) acceptSuggestion(accept);
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("uitloggen").addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      $("scherm").innerHTML = "";
      loggedIn(false);
      $("sleutel").focus();
    });
    window.addEventListener("hashchange", load);
    load();
  });
})();
