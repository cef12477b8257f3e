/**
 * The pages' script and stylesheet, as strings served verbatim (no build step). The script is a
 * plain ES module with no imports; it talks only to the router's `/api` endpoints.
 *
 * The secret of a new token lives in one variable and one `<code>` element while its dialog is
 * open; closing the dialog (Done, Escape) empties both (R5).
 * @module
 */

/** The pages' script. */
export const PAGE_SCRIPT = String.raw`// keyward token management page: vanilla JS, no dependencies.
const body = document.body;
const BASE = body.dataset.base || "";
const PAGE = body.dataset.page;
const CSRF_HEADER = "x-keyward-csrf";
const $ = (id) => document.getElementById(id);
const state = { me: null, sets: new Map() };
const openers = new WeakMap();

class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || "The request failed.");
    this.code = problem.code;
    this.field = problem.field;
    this.status = status;
  }
}

async function api(method, path, payload) {
  const headers = { accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    headers[CSRF_HEADER] = "1";
    init.body = JSON.stringify(payload || {});
  }
  let res;
  try {
    res = await fetch(BASE + "/api" + path, init);
  } catch {
    throw new ApiError({ code: "network", detail: "The server cannot be reached. Check your connection and try again." }, 0);
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    throw new ApiError(data && data.code ? data : { code: "http_" + res.status, detail: "The request failed (HTTP " + res.status + ")." }, res.status);
  }
  return data;
}

// ── small DOM helpers ─────────────────────────────────────────────────────────────────────────
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const STATUS = {
  active: "Active",
  revoked: "Revoked",
  deleted: "Deleted",
  expired: "Expired",
  subject_inactive: "Owner deactivated or left",
};

function cell(content, header) {
  const c = document.createElement(header ? "th" : "td");
  if (header) c.scope = "row";
  if (typeof content === "string") c.textContent = content;
  else if (content) c.append(content);
  return c;
}
function timeCell(iso, empty) {
  if (!iso) return cell(empty);
  const t = document.createElement("time");
  t.dateTime = iso;
  t.textContent = dateFormat.format(new Date(iso));
  return cell(t);
}
function code(text) {
  const c = document.createElement("code");
  c.textContent = text;
  return c;
}
function button(label, ariaLabel, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (ariaLabel) b.setAttribute("aria-label", ariaLabel);
  if (className) b.className = className;
  b.addEventListener("click", () => run(() => onClick(b)));
  return b;
}
function announce(message) {
  $("status").textContent = message;
}
function showError(target, err) {
  target.textContent = err && err.message ? err.message : String(err);
}
async function run(task) {
  $("page-error").textContent = "";
  try {
    await task();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signedOut();
    else showError($("page-error"), err);
  }
}
function signedOut() {
  $("page-error").textContent = "You are not signed in. Sign in to manage API tokens.";
  for (const s of document.querySelectorAll("main > :not(#status):not(#page-error)")) s.hidden = true;
}

// ── dialogs: focus goes in on open and back to the opener on close ───────────────────────────
function openDialog(dialog, opener) {
  openers.set(dialog, opener || document.activeElement);
  dialog.showModal();
}
for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("close", () => {
    const opener = openers.get(dialog);
    openers.delete(dialog);
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    else $("main").querySelector("h1").focus();
  });
  for (const b of dialog.querySelectorAll("[data-close]")) b.addEventListener("click", () => dialog.close());
}
$("main").querySelector("h1").tabIndex = -1;

function confirmAction(title, text, okLabel, opener) {
  return new Promise((resolve) => {
    const dialog = $("confirm-dialog");
    const ok = $("confirm-ok");
    const cancel = $("confirm-cancel");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    ok.textContent = okLabel;
    let confirmed = false;
    const onOk = () => {
      confirmed = true;
      dialog.close();
    };
    const onCancel = () => dialog.close();
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener(
      "close",
      () => {
        ok.removeEventListener("click", onOk);
        cancel.removeEventListener("click", onCancel);
        resolve(confirmed);
      },
      { once: true },
    );
    openDialog(dialog, opener);
    cancel.focus();
  });
}

// ── the secret, shown once ────────────────────────────────────────────────────────────────────
let secret = null;
const secretDialog = $("secret-dialog");
const secretValue = $("secret-value");

function showSecret(created, opener) {
  secret = created.token;
  created.token = null;
  secretValue.textContent = secret;
  $("copy-status").textContent = "";
  openDialog(secretDialog, opener);
  $("copy-secret").focus();
}
$("copy-secret").addEventListener("click", async () => {
  if (secret === null) return;
  try {
    await navigator.clipboard.writeText(secret);
    $("copy-status").textContent = "Copied to the clipboard. Save it somewhere safe before you close this window.";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(secretValue);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    $("copy-status").textContent = "This browser blocked copying: the token is selected, press Ctrl+C (or Cmd+C) to copy it.";
  }
});
// Gone from the page and from this script's memory (R5): before the dialog hides, whichever way it closes.
function forgetSecret() {
  secret = null;
  secretValue.textContent = "";
  $("copy-status").textContent = "";
  const selection = window.getSelection();
  if (selection) selection.removeAllRanges();
}
$("secret-done").addEventListener("click", () => {
  forgetSecret();
  secretDialog.close();
});
secretDialog.addEventListener("cancel", forgetSecret);
secretDialog.addEventListener("close", forgetSecret);

// ── generating a token (a user's own, or a service user's) ────────────────────────────────────
const generateDialog = $("generate-dialog");
const generateForm = $("generate-form");
const nameInput = $("token-name");
const passwordInput = $("token-password");
let generateTarget = null;

function needsPassword() {
  return generateTarget !== null && generateTarget.kind === "user" && !state.me.organization.ssoOnly;
}
function invalid(input, on) {
  if (on) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}
function openGenerate(target, opener) {
  generateTarget = target;
  generateForm.reset();
  invalid(nameInput, false);
  invalid(passwordInput, false);
  $("generate-error").textContent = "";
  const withPassword = needsPassword();
  $("password-field").hidden = !withPassword;
  passwordInput.disabled = !withPassword;
  if (target.kind === "user") {
    $("generate-title").textContent = "Generate API token";
    $("generate-intro").textContent = withPassword
      ? "Name the token and enter your account's password."
      : "Your organization signs in with single sign-on only, so no password is needed.";
  } else {
    $("generate-title").textContent = "Generate a token for " + target.serviceUser.name;
    $("generate-intro").textContent = "The token acts as the service user " + target.serviceUser.name + ", with its own permission set.";
  }
  openDialog(generateDialog, opener);
  nameInput.focus();
}
generateDialog.addEventListener("close", () => {
  passwordInput.value = "";
});
generateForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("generate-error");
  error.textContent = "";
  invalid(nameInput, false);
  invalid(passwordInput, false);
  const name = nameInput.value.trim();
  if (name === "") {
    error.textContent = "Enter a name for the token.";
    invalid(nameInput, true);
    nameInput.focus();
    return;
  }
  const withPassword = needsPassword();
  if (withPassword && passwordInput.value === "") {
    error.textContent = "Enter your password.";
    invalid(passwordInput, true);
    passwordInput.focus();
    return;
  }
  const target = generateTarget;
  const payload = { name };
  if (withPassword) payload.password = passwordInput.value;
  const submit = $("generate-submit");
  submit.disabled = true;
  generateForm.setAttribute("aria-busy", "true");
  try {
    const path = target.kind === "user" ? "/tokens" : "/service-users/" + encodeURIComponent(target.serviceUser.id) + "/tokens";
    const created = await api("POST", path, payload);
    payload.password = null;
    const opener = openers.get(generateDialog);
    generateDialog.close();
    showSecret(created, opener);
    announce("Token " + created.record.name + " generated.");
    await (target.kind === "user" ? loadMine() : loadServiceUsers());
  } catch (err) {
    payload.password = null;
    passwordInput.value = "";
    if (err instanceof ApiError && err.status === 401) {
      generateDialog.close();
      signedOut();
      return;
    }
    showError(error, err);
    if (err.field === "name") {
      invalid(nameInput, true);
      nameInput.focus();
    } else if (err.field === "password" && withPassword) {
      invalid(passwordInput, true);
      passwordInput.focus();
    }
  } finally {
    submit.disabled = false;
    generateForm.removeAttribute("aria-busy");
  }
});

// ── "My API tokens" ───────────────────────────────────────────────────────────────────────────
async function loadMine() {
  const { tokens } = await api("GET", "/tokens");
  const active = tokens.filter((t) => t.status === "active");
  const inactive = tokens.filter((t) => t.status !== "active");
  const tbody = $("my-tokens").querySelector("tbody");
  tbody.replaceChildren(
    ...active.map((t) => {
      const tr = document.createElement("tr");
      tr.dataset.tokenId = t.id;
      const actions = cell(button("Revoke", "Revoke token " + t.name, "danger", (b) => revokeMine(t, b)));
      tr.append(cell(t.name, true), cell(code(t.hint)), timeCell(t.createdAt), timeCell(t.lastUsedAt, "Never"), timeCell(t.expiresAt, "—"), actions);
      return tr;
    }),
  );
  $("my-tokens").hidden = active.length === 0;
  $("my-empty").hidden = active.length !== 0;
  $("my-inactive").hidden = inactive.length === 0;
  $("my-inactive-tokens")
    .querySelector("tbody")
    .replaceChildren(
      ...inactive.map((t) => {
        const tr = document.createElement("tr");
        tr.dataset.tokenId = t.id;
        tr.append(cell(t.name, true), cell(code(t.hint)), timeCell(t.createdAt), timeCell(t.lastUsedAt, "Never"), cell(STATUS[t.status] || t.status));
        return tr;
      }),
    );
}
async function revokeMine(t, opener) {
  const ok = await confirmAction(
    "Revoke API token?",
    "Integrations using " + t.name + " (" + t.hint + ") will stop working immediately. This cannot be undone.",
    "Revoke",
    opener,
  );
  if (!ok) return;
  await api("POST", "/tokens/" + encodeURIComponent(t.id) + "/revoke");
  announce("Token " + t.name + " revoked.");
  await loadMine();
  $("generate").focus();
}

// ── the administrator's "API tokens" ──────────────────────────────────────────────────────────
async function loadOrgTokens() {
  const { tokens } = await api("GET", "/organization/tokens");
  $("org-tokens")
    .querySelector("tbody")
    .replaceChildren(
      ...tokens.map((t) => {
        const tr = document.createElement("tr");
        tr.dataset.tokenId = t.id;
        const del = button("Delete", "Delete token " + t.name + " of " + t.owner.name, "danger", (b) => deleteOrgToken(t, b));
        tr.append(cell(t.name, true), cell(t.owner.name), cell(code(t.hint)), timeCell(t.createdAt), timeCell(t.lastUsedAt, "Never"), cell(STATUS[t.status] || t.status), cell(del));
        return tr;
      }),
    );
  $("org-tokens").hidden = tokens.length === 0;
  $("org-empty").hidden = tokens.length !== 0;
}
async function deleteOrgToken(t, opener) {
  const ok = await confirmAction(
    "Delete user API token?",
    t.name + " (" + t.hint + ") belongs to " + t.owner.name + ". Deleting it will immediately stop any integrations relying on it from working.",
    "Delete",
    opener,
  );
  if (!ok) return;
  await api("DELETE", "/organization/tokens/" + encodeURIComponent(t.id));
  announce("Token " + t.name + " of " + t.owner.name + " deleted.");
  await loadOrgTokens();
  $("org-tokens-title").tabIndex = -1;
  $("org-tokens-title").focus();
}

async function loadSets() {
  const { permissionSets } = await api("GET", "/permission-sets");
  const select = $("service-user-set");
  for (const s of permissionSets) {
    state.sets.set(s.id, s.name);
    const option = document.createElement("option");
    option.value = s.id;
    option.textContent = s.name;
    select.append(option);
  }
  $("permission-set-field").hidden = permissionSets.length === 0;
}

async function loadServiceUsers() {
  const { serviceUsers } = await api("GET", "/service-users");
  const list = $("service-users");
  list.replaceChildren(
    ...serviceUsers.map((su) => {
      const article = document.createElement("article");
      article.className = "card";
      article.dataset.serviceUserId = su.id;
      const headingId = "su-" + su.id.replace(/[^A-Za-z0-9_-]/g, "_");
      article.setAttribute("aria-labelledby", headingId);
      const h = document.createElement("h3");
      h.id = headingId;
      h.textContent = su.name;
      const meta = document.createElement("p");
      meta.className = "hint";
      meta.textContent = "Permission set: " + (su.permissionSetId ? state.sets.get(su.permissionSetId) || su.permissionSetId : "none");
      const actions = document.createElement("p");
      actions.className = "row-actions";
      actions.append(
        button("Generate token", "Generate a token for " + su.name, "", (b) => openGenerate({ kind: "service", serviceUser: su }, b)),
        button("Delete service user", "Delete service user " + su.name, "danger", (b) => deleteServiceUser(su, b)),
      );
      article.append(h, meta, actions);
      const tokens = su.tokens;
      if (tokens.length === 0) {
        const p = document.createElement("p");
        p.className = "hint";
        p.textContent = "No tokens yet.";
        article.append(p);
      } else {
        const table = document.createElement("table");
        const caption = document.createElement("caption");
        caption.className = "visually-hidden";
        caption.textContent = "Tokens of " + su.name;
        const head = document.createElement("thead");
        head.innerHTML = '<tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>';
        const tbody = document.createElement("tbody");
        for (const t of tokens) {
          const tr = document.createElement("tr");
          tr.dataset.tokenId = t.id;
          const buttons = document.createElement("span");
          buttons.className = "row-actions";
          if (t.status === "active") buttons.append(button("Revoke", "Revoke token " + t.name, "secondary", (b) => endServiceToken(su, t, "revoke", b)));
          buttons.append(button("Delete", "Delete token " + t.name, "danger", (b) => endServiceToken(su, t, "delete", b)));
          tr.append(cell(t.name, true), cell(code(t.hint)), timeCell(t.createdAt), timeCell(t.lastUsedAt, "Never"), cell(STATUS[t.status] || t.status), cell(buttons));
          tbody.append(tr);
        }
        table.append(caption, head, tbody);
        article.append(table);
      }
      return article;
    }),
  );
  $("service-empty").hidden = serviceUsers.length !== 0;
}
async function deleteServiceUser(su, opener) {
  const active = su.tokens.filter((t) => t.status === "active").length;
  const ok = await confirmAction(
    "Delete service user?",
    "Deleting " + su.name + " immediately stops its " + active + " active token" + (active === 1 ? "" : "s") + " from working.",
    "Delete",
    opener,
  );
  if (!ok) return;
  await api("DELETE", "/service-users/" + encodeURIComponent(su.id));
  announce("Service user " + su.name + " deleted.");
  await loadServiceUsers();
  $("service-user-name").focus();
}
async function endServiceToken(su, t, how, opener) {
  const verb = how === "revoke" ? "Revoke" : "Delete";
  const ok = await confirmAction(
    verb + " service user token?",
    "Integrations using " + t.name + " (" + t.hint + ") of " + su.name + " will stop working immediately.",
    verb,
    opener,
  );
  if (!ok) return;
  const path = "/service-users/" + encodeURIComponent(su.id) + "/tokens/" + encodeURIComponent(t.id);
  if (how === "revoke") await api("POST", path + "/revoke");
  else await api("DELETE", path);
  announce("Token " + t.name + (how === "revoke" ? " revoked." : " deleted."));
  await loadServiceUsers();
  $("service-users-title").tabIndex = -1;
  $("service-users-title").focus();
}

function wireServiceUserForm() {
  const form = $("service-user-form");
  const input = $("service-user-name");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      const error = $("service-user-error");
      error.textContent = "";
      invalid(input, false);
      const name = input.value.trim();
      if (name === "") {
        error.textContent = "Enter a name for the service user.";
        invalid(input, true);
        input.focus();
        return;
      }
      const setId = $("service-user-set").value;
      try {
        const { serviceUser } = await api("POST", "/service-users", { name, permissionSetId: setId === "" ? null : setId });
        form.reset();
        announce("Service user " + serviceUser.name + " created.");
        await loadServiceUsers();
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) throw err;
        showError(error, err);
        if (err.field === "name") {
          invalid(input, true);
          input.focus();
        }
      }
    });
  });
}

// ── start ─────────────────────────────────────────────────────────────────────────────────────
async function init() {
  try {
    state.me = await api("GET", "/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signedOut();
    else showError($("page-error"), err);
    return;
  }
  const me = state.me;
  $("who").textContent = "Signed in as " + me.user.name + " in " + me.organization.name;
  if (me.can.manageTokens || me.can.manageServiceUsers) $("admin-link").hidden = false;
  if (PAGE === "mine") {
    $("generate").addEventListener("click", (event) => openGenerate({ kind: "user" }, event.currentTarget));
    await loadMine();
  } else {
    if (me.can.manageTokens) {
      $("org-tokens-section").hidden = false;
      await loadOrgTokens();
    }
    if (me.can.manageServiceUsers) {
      $("service-users-section").hidden = false;
      wireServiceUserForm();
      await loadSets();
      await loadServiceUsers();
    }
    $("admin-none").hidden = me.can.manageTokens || me.can.manageServiceUsers;
  }
}
run(init).finally(() => {
  $("main").setAttribute("aria-busy", "false");
  body.dataset.ready = "true";
});
`;

/** The pages' stylesheet. */
export const PAGE_CSS = String.raw`:root {
  color-scheme: light dark;
  --fg: #1b1f24;
  --muted: #57606a;
  --bg: #ffffff;
  --panel: #f6f8fa;
  --line: #d0d7de;
  --accent: #0b57d0;
  --danger: #b42318;
  --ok: #1a7f37;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --panel: #161b22; --line: #30363d; --accent: #7aa7ff; --danger: #ff7b72; --ok: #56d364; }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); }
.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; padding: 0.75rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--panel); }
.top nav { display: flex; gap: 1.25rem; }
.top a { color: var(--accent); text-decoration: none; font-weight: 600; }
.top a[aria-current="page"] { color: var(--fg); text-decoration: underline; text-underline-offset: 0.3em; }
main { max-width: 68rem; margin: 0 auto; padding: 1.5rem; }
h1 { margin: 0.5rem 0 0.75rem; font-size: 1.6rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.5rem; }
h3 { margin: 0 0 0.25rem; font-size: 1.05rem; }
.lead { color: var(--muted); max-width: 50rem; }
.hint { color: var(--muted); font-size: 0.9rem; margin: 0.25rem 0; }
.error { color: var(--danger); font-weight: 600; margin: 0.5rem 0; }
.error:empty, .status:empty { display: none; }
.status { color: var(--ok); font-weight: 600; margin: 0.5rem 0; }
table { width: 100%; border-collapse: collapse; margin: 0.75rem 0; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { text-align: left; padding: 0.5rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
thead th { font-size: 0.85rem; color: var(--muted); font-weight: 600; }
tbody th { font-weight: 600; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
button { font: inherit; padding: 0.45rem 0.9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
button:disabled { opacity: 0.6; cursor: progress; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.row-actions { display: inline-flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.5rem 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; background: var(--panel); }
form.inline { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 1rem; margin: 1rem 0; }
form.inline .error { flex-basis: 100%; }
.field { display: flex; flex-direction: column; gap: 0.25rem; margin: 0.75rem 0; }
.field[hidden] { display: none; }
label { font-weight: 600; }
input, select { font: inherit; padding: 0.45rem 0.6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); min-width: 16rem; }
input[aria-invalid="true"] { border-color: var(--danger); outline-color: var(--danger); }
dialog { border: 1px solid var(--line); border-radius: 10px; padding: 1.5rem; max-width: 36rem; width: calc(100% - 2rem); color: var(--fg); background: var(--bg); }
dialog::backdrop { background: rgb(0 0 0 / 0.45); }
dialog h2 { margin-top: 0; }
dialog .actions { display: flex; justify-content: flex-end; gap: 0.75rem; margin-top: 1.25rem; }
.secret { display: flex; gap: 0.75rem; align-items: center; padding: 0.75rem; border: 1px dashed var(--line); border-radius: 6px; background: var(--panel); }
.secret code { flex: 1; word-break: break-all; user-select: all; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }
`;
