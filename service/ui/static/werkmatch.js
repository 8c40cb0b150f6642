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

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-set-status]");
    if (button) setStatus(button);
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
