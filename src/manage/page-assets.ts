/**
 * The pages' script and stylesheet, as strings served verbatim (no build step). The script is a
 * plain ES module with no imports; it talks only to the router's `/api` endpoints.
 *
 * The secret of a new token lives in one variable and one `<code>` element while its dialog is
 * open; closing the dialog empties both (R5). Closing it before the token was copied asks first.
 * Listings are filtered, searched, sorted and paged by the endpoints, never in the browser.
 * @module
 */

/** The pages' script. */
export const PAGE_SCRIPT = String.raw`// keyward token management page: vanilla JS, no dependencies.
const body = document.body;
const BASE = body.dataset.base || "";
const PAGE = body.dataset.page;
const CSRF_HEADER = "x-keyward-csrf";
const $ = (id) => document.getElementById(id);
const state = { me: null, sets: new Map(), org: { cursors: [null], index: 0, nextCursor: null } };
const openers = new WeakMap();
const ORG_PAGE_SIZE = 25;
const INACTIVE_PAGE_SIZE = 20;
// "Expires in N days" turns into a warning this close to the end (the first of R20's warnings).
const SOON_MS = 14 * 86400000;
const HOUR_MS = 3600000;
const DAY_MS = 86400000;
const GRACE_CHOICES = [[0, "No grace: the current secret stops now"], [HOUR_MS, "1 hour"], [DAY_MS, "1 day"], [7 * DAY_MS, "7 days"]];

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
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s === "" ? "" : "?" + s;
}

// ── time that people read ─────────────────────────────────────────────────────────────────────
const exactFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });
const relativeFormat = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
function relative(ms) {
  const abs = Math.abs(ms);
  const units = [["year", 31536000000], ["month", 2592000000], ["day", 86400000], ["hour", 3600000], ["minute", 60000]];
  for (const [unit, size] of units) if (abs >= size) return relativeFormat.format(Math.round(ms / size), unit);
  return ms < 0 ? "just now" : "in less than a minute";
}
/** A <time> reading "2 days ago" / "in 29 days", the exact date on hover and for screen readers. */
function timeElement(iso, soon) {
  const t = document.createElement("time");
  t.dateTime = iso;
  const when = new Date(iso);
  const exact = exactFormat.format(when);
  t.title = exact;
  t.className = "when" + (soon ? " soon" : "");
  const shown = document.createElement("span");
  shown.setAttribute("aria-hidden", "true");
  shown.textContent = relative(when.getTime() - Date.now());
  const spoken = document.createElement("span");
  spoken.className = "visually-hidden";
  spoken.textContent = relative(when.getTime() - Date.now()) + ", " + exact;
  t.append(shown, spoken);
  return t;
}

// ── small DOM helpers ─────────────────────────────────────────────────────────────────────────
const STATUS = {
  active: "Active",
  revoked: "Revoked",
  deleted: "Deleted",
  expired: "Expired",
  subject_inactive: "Owner deactivated or left",
};
const STATUS_WORDS = {
  active: "active",
  "expired,subject_inactive": "expired",
  revoked: "revoked",
  deleted: "deleted",
  "active,revoked,expired,subject_inactive": "",
};

function cell(content, label, header) {
  const c = document.createElement(header ? "th" : "td");
  if (header) {
    c.scope = "row";
    c.setAttribute("role", "rowheader");
  } else c.setAttribute("role", "cell");
  if (label) c.dataset.label = label;
  if (typeof content === "string") c.textContent = content;
  else if (content) c.append(content);
  return c;
}
function row(tokenId) {
  const tr = document.createElement("tr");
  tr.setAttribute("role", "row");
  tr.dataset.tokenId = tokenId;
  return tr;
}
function timeCell(iso, empty, label) {
  return iso ? cell(timeElement(iso, false), label) : cell(empty, label);
}
const CAUSE = { inactivity: "if not used before", date: "on the date set", policy: "the organization's lifetime limit" };
/** "3 days", "5 hours": how long a token has left, in days (rounded) when a day or more (R19). */
function timeLeft(ms) {
  if (ms >= DAY_MS) {
    const days = Math.round(ms / DAY_MS);
    return days + " day" + (days === 1 ? "" : "s");
  }
  const hours = Math.max(1, Math.floor(ms / HOUR_MS));
  return hours + " hour" + (hours === 1 ? "" : "s");
}
function expiresCell(t) {
  if (!t.expiresAt) return cell(t.status === "active" ? "Never" : "—", "Expires");
  const left = new Date(t.expiresAt).getTime() - Date.now();
  const soon = left <= SOON_MS;
  const c = cell(timeElement(t.expiresAt, soon), "Expires");
  if (soon) {
    const note = document.createElement("span");
    note.className = "soon-note";
    note.textContent = left > 0 ? " Expires in " + timeLeft(left) : " Expired";
    c.append(note);
    c.classList.add("expiring");
  }
  if (t.expiryCause && CAUSE[t.expiryCause]) c.append(line(CAUSE[t.expiryCause], "hint cause"));
  return c;
}
function line(text, className) {
  const p = document.createElement("span");
  p.className = "detail " + (className || "hint");
  p.textContent = text;
  return p;
}
const LEVEL = { view: "view only", edit: "view and edit" };
function named(ids, list) {
  const names = new Map((list || []).map((x) => [x.id, x.name]));
  return ids.map((id) => names.get(id) || id).join(", ");
}
/** One line saying what a restricted token may do (R17); "Full access" without a restriction. */
function restrictionSummary(r) {
  if (!r) return "Full access";
  const holds = (state.me && state.me.holds) || { groups: [], sites: [] };
  const parts = [];
  if (r.permissions) parts.push(r.permissions.length === 0 ? "no permissions" : r.permissions.join(", "));
  if (r.maxLevel) parts.push(LEVEL[r.maxLevel] || r.maxLevel);
  if (r.itemTypes) parts.push("item types: " + (r.itemTypes.join(", ") || "none"));
  if (r.groupIds) parts.push("groups: " + (named(r.groupIds, holds.groups) || "none"));
  if (r.siteIds) parts.push("sites: " + (named(r.siteIds, holds.sites) || "none"));
  if (r.items) parts.push(r.items.length + " item" + (r.items.length === 1 ? "" : "s"));
  return "Restricted: " + (parts.join(" · ") || "as created");
}
/** The token's hint with what it may do, its rotation state and its last clients underneath. */
function tokenCell(t) {
  const c = cell(code(t.hint), "Token");
  c.append(line(restrictionSummary(t.restriction), t.restriction ? "restricted" : "hint"));
  if (t.previousSecretUntil && new Date(t.previousSecretUntil).getTime() > Date.now()) {
    const p = line("Previous secret valid until ", "rotation");
    p.append(timeElement(t.previousSecretUntil, true));
    c.append(p);
  } else if (t.rotatedAt) {
    const p = line("Rotated ", "hint");
    p.append(timeElement(t.rotatedAt, false));
    c.append(p);
  }
  if (t.clients && t.clients.length > 0) c.append(line("Last clients: " + t.clients.map(clientText).join("; "), "hint clients"));
  return c;
}
function clientText(c) {
  return [c.ip, c.userAgent].filter(Boolean).join(" ") || "unknown client";
}
function code(text) {
  const c = document.createElement("code");
  c.textContent = text;
  return c;
}
/** A button whose accessible name starts with its visible label (voice control: "click Revoke"). */
function button(label, more, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (more) {
    const extra = document.createElement("span");
    extra.className = "visually-hidden";
    extra.textContent = " " + more;
    b.append(extra);
  }
  if (className) b.className = className;
  b.addEventListener("click", () => run(() => onClick(b)));
  return b;
}
function announce(message) {
  $("page-error").textContent = "";
  $("status").textContent = message;
}
function showError(target, err) {
  // A later error replaces an earlier success message: never both at once.
  $("status").textContent = "";
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
  $("status").textContent = "";
  $("page-error").textContent = "";
  $("content").hidden = true;
  $("signed-out").hidden = false;
  $("who").textContent = "";
  $("admin-link").hidden = PAGE !== "admin";
}

// ── dialogs: focus goes in on open and back to the opener on close ───────────────────────────
function openDialog(dialog, opener) {
  openers.set(dialog, opener || document.activeElement);
  dialog.showModal();
}
function headingToFocus() {
  const h = document.querySelector("main h1:not([hidden])");
  return h;
}
for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("close", () => {
    const opener = openers.get(dialog);
    openers.delete(dialog);
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    else {
      const h = headingToFocus();
      if (h) h.focus();
    }
  });
  for (const b of dialog.querySelectorAll("[data-close]")) b.addEventListener("click", () => dialog.close());
}
for (const h of document.querySelectorAll("main h1")) h.tabIndex = -1;

function confirmAction(title, text, okLabel, opener, items) {
  return new Promise((resolve) => {
    const dialog = $("confirm-dialog");
    const ok = $("confirm-ok");
    const cancel = $("confirm-cancel");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    const list = $("confirm-list");
    list.replaceChildren(
      ...(items || []).map((x) => {
        const li = document.createElement("li");
        li.textContent = x;
        return li;
      }),
    );
    list.hidden = !items || items.length === 0;
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

// ── the secret, shown once: never lost without a warning ──────────────────────────────────────
let secret = null;
let copied = false;
const secretDialog = $("secret-dialog");
const secretValue = $("secret-value");
const copyButton = $("copy-secret");

function showSecret(created, opener) {
  secret = created.token;
  created.token = null;
  copied = false;
  secretValue.textContent = secret;
  $("secret-name").textContent = "Name: " + created.record.name;
  $("copy-status").textContent = "";
  copyButton.textContent = "Copy";
  $("secret-confirm").hidden = true;
  $("secret-actions").hidden = false;
  openDialog(secretDialog, opener);
  copyButton.focus();
}
async function copySecret() {
  if (secret === null) return;
  try {
    await navigator.clipboard.writeText(secret);
    copied = true;
    copyButton.textContent = "Copied";
    $("copy-status").textContent = "Copied to the clipboard. Save it somewhere safe before you close this window.";
    $("secret-confirm").hidden = true;
    $("secret-actions").hidden = false;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(secretValue);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    // Selected, perhaps copied by hand: closing will not ask again.
    copied = true;
    $("copy-status").textContent = "This browser blocked copying: the token is selected, press Ctrl+C (or Cmd+C) to copy it.";
  }
}
copyButton.addEventListener("click", copySecret);
// Clicking the token itself copies it, as the reference flow does.
secretValue.addEventListener("click", copySecret);

// Gone from the page and from this script's memory (R5): before the dialog hides, whichever way it closes.
function forgetSecret() {
  secret = null;
  copied = false;
  secretValue.textContent = "";
  $("secret-name").textContent = "";
  $("copy-status").textContent = "";
  copyButton.textContent = "Copy";
  const selection = window.getSelection();
  if (selection) selection.removeAllRanges();
}
/** Closing an uncopied secret asks first; closing a copied one (or confirming) forgets it. */
function requestSecretClose() {
  if (secret !== null && !copied && $("secret-confirm").hidden) {
    $("secret-confirm").hidden = false;
    $("secret-actions").hidden = true;
    $("secret-back").focus();
    return;
  }
  forgetSecret();
  secretDialog.close();
}
$("secret-done").addEventListener("click", requestSecretClose);
$("secret-discard").addEventListener("click", () => {
  forgetSecret();
  secretDialog.close();
});
$("secret-back").addEventListener("click", () => {
  $("secret-confirm").hidden = true;
  $("secret-actions").hidden = false;
  copyButton.focus();
});
secretDialog.addEventListener("cancel", (event) => {
  // Escape: the same question as Done while the token is not copied; a second Escape goes back to it.
  if (secret !== null && !copied) {
    event.preventDefault();
    if ($("secret-confirm").hidden) requestSecretClose();
    else $("secret-back").click();
    return;
  }
  forgetSecret();
});
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
/** Marks a field invalid and links it to its error message (aria-describedby), or clears both. */
function invalid(input, on, errorId) {
  // The field's own description (a hint), kept so that the error can be added and removed again.
  if (input.dataset.hint === undefined) input.dataset.hint = input.getAttribute("aria-describedby") || "";
  const base = input.dataset.hint;
  if (on) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", (base + " " + errorId).trim());
  } else {
    input.removeAttribute("aria-invalid");
    if (base) input.setAttribute("aria-describedby", base);
    else input.removeAttribute("aria-describedby");
  }
}
/** A secret answered (a creation or a rotation): its dialog closes, the message is announced, the secret is shown once, the list reloads. */
async function secretAnswered(dialog, answer, message, kind) {
  const opener = openers.get(dialog);
  dialog.close();
  announce(message);
  showSecret(answer, opener);
  await (kind === "user" ? loadMine() : loadServiceUsers());
}
/** A refused request that carried a password: the password is forgotten; a lost session closes the dialog (then true). */
function refusedWithPassword(dialog, input, payload, err) {
  payload.password = null;
  input.value = "";
  if (err instanceof ApiError && err.status === 401) {
    dialog.close();
    signedOut();
    return true;
  }
  return false;
}

// ── Full access or Restricted (R17), previewed before the secret exists; an optional expiry (R19) ──
const expiryInput = $("token-expiry");
let previewTimer = null;
let previewSeq = 0;
function generateBase() {
  return generateTarget.kind === "user" ? "/tokens" : "/service-users/" + encodeURIComponent(generateTarget.serviceUser.id) + "/tokens";
}
function restricted() {
  return $("access-restricted").checked;
}
function checkboxes(id, values, checked) {
  const box = $(id).querySelector(".options");
  box.replaceChildren(
    ...values.map((v) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = v.id;
      input.checked = checked;
      label.append(input, " " + v.name);
      return label;
    }),
  );
  $(id).hidden = values.length === 0;
}
function picked(id) {
  const all = [...$(id).querySelectorAll("input[type=checkbox]")];
  return { all: all.length, values: all.filter((x) => x.checked).map((x) => x.value) };
}
/** The restriction the picker says, or null for full access. Unticked nothing: that dimension is not restricted. */
function restrictionOf() {
  if (!restricted()) return null;
  const r = { permissions: picked("pick-permissions").values };
  const level = $("pick-level").value;
  if (level) r.maxLevel = level;
  for (const [id, key] of [["pick-types", "itemTypes"], ["pick-groups", "groupIds"], ["pick-sites", "siteIds"]]) {
    const p = picked(id);
    if (p.all > 0 && p.values.length < p.all) r[key] = p.values;
  }
  return r;
}
function renderReach(reach) {
  const body = $("reach-preview-body");
  if (reach.refusal) {
    body.replaceChildren(line("This token would not work: " + reach.refusal.replace(/_/g, " ") + ".", "error"));
    return;
  }
  const list = document.createElement("ul");
  list.className = "reach";
  const item = (text) => {
    const li = document.createElement("li");
    li.textContent = text;
    list.append(li);
  };
  item(reach.actions.length === 0 ? "No actions." : "Actions: " + reach.actions.join(", "));
  for (const t of reach.itemTypes) {
    const n = t.grants.length;
    item(t.itemType + ": " + (t.actions.length === 0 || n === 0 ? "nothing" : t.actions.join(", ") + " through " + n + " share" + (n === 1 ? "" : "s") + " or rule" + (n === 1 ? "" : "s")));
  }
  body.replaceChildren(list);
}
async function refreshReach() {
  const seq = ++previewSeq;
  $("restriction-error").textContent = "";
  try {
    const reach = await api("POST", generateBase() + "/preview", { restriction: restrictionOf() });
    if (seq === previewSeq) renderReach(reach);
  } catch (err) {
    if (seq === previewSeq) showError($("restriction-error"), err);
  }
}
function scheduleReach() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => run(refreshReach), 150);
}
/** Fills the picker with what the subject holds: its permissions and item types (a full preview), the user's groups and sites. */
async function loadPicker(target) {
  const full = await api("POST", generateBase() + "/preview", {});
  checkboxes("pick-permissions", full.permissions.map((x) => ({ id: x, name: x })), true);
  checkboxes("pick-types", full.itemTypes.map((t) => ({ id: t.itemType, name: t.itemType })), true);
  const holds = target.kind === "user" && state.me.holds ? state.me.holds : { groups: [], sites: [] };
  checkboxes("pick-groups", holds.groups, true);
  checkboxes("pick-sites", holds.sites, true);
  $("pick-level").value = "";
  renderReach(full);
}
/** The expiry field under the organization's policy: its limit and whether it is required (R19). */
function setupExpiry(kind) {
  const policy = state.me.organization.tokenPolicy || {};
  const max = policy.maxLifetimeMs ? policy.maxLifetimeMs[kind === "user" ? "user" : "service_user"] : null;
  const required = policy.requireExpiry === true;
  expiryInput.required = required;
  $("token-expiry-required").textContent = required ? "(required)" : "(optional)";
  const today = new Date();
  expiryInput.min = isoDate(new Date(today.getTime() + DAY_MS));
  if (max) {
    expiryInput.max = isoDate(new Date(today.getTime() + max));
    $("token-expiry-hint").textContent = "Your organization allows at most " + timeLeft(max) + ": until " + exactFormat.format(new Date(today.getTime() + max)) + ".";
  } else {
    expiryInput.removeAttribute("max");
    $("token-expiry-hint").textContent = kind === "user" ? "Without a date the token still expires after 30 days without use." : "Without a date the token works until it is revoked.";
  }
  return max;
}
function isoDate(d) {
  return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
}
/**
 * The end of the chosen day as ISO-8601. On the policy's last allowed day, the policy's limit
 * itself (the end of that day would pass it by some hours); a later day is sent as chosen, and the
 * server refuses it by the field.
 */
function expiryOf(value, max) {
  if (!value) return null;
  const [y, m, d] = value.split("-").map(Number);
  let at = new Date(y, m - 1, d, 23, 59, 0).getTime();
  if (max && value <= isoDate(new Date(Date.now() + max))) at = Math.min(at, Date.now() + max - 60000);
  return new Date(at).toISOString();
}
/** Clears the form's errors, each shown by its field. */
function clearGenerateErrors() {
  for (const id of ["generate-error", "token-expiry-error", "restriction-error"]) $(id).textContent = "";
  invalid(nameInput, false);
  invalid(passwordInput, false);
  invalid(expiryInput, false);
}
$("access-full").addEventListener("change", () => {
  $("restriction").hidden = true;
});
$("access-restricted").addEventListener("change", () =>
  run(async () => {
    $("restriction").hidden = false;
    // The picker is filled on first use: what the subject holds now, from a preview of full access.
    if (!generateTarget.pickerLoaded) {
      generateTarget.pickerLoaded = true;
      await loadPicker(generateTarget);
    }
    scheduleReach();
  }),
);
$("restriction").addEventListener("change", scheduleReach);

function openGenerate(target, opener) {
  generateTarget = target;
  generateForm.reset();
  clearGenerateErrors();
  $("restriction").hidden = true;
  $("reach-preview-body").replaceChildren(line("Choose what the token may do."));
  for (const id of ["pick-permissions", "pick-types", "pick-groups", "pick-sites"]) $(id).querySelector(".options").replaceChildren();
  $("access-full-label").textContent = target.kind === "user" ? "Full access (as me)" : "Full access (as " + target.serviceUser.name + ")";
  generateTarget.maxLifetimeMs = setupExpiry(target.kind);
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
  clearGenerateErrors();
  const name = nameInput.value.trim();
  if (name === "") {
    showError(error, new Error("Enter a name for the token."));
    invalid(nameInput, true, "generate-error");
    nameInput.focus();
    return;
  }
  const withPassword = needsPassword();
  if (withPassword && passwordInput.value === "") {
    showError(error, new Error("Enter your password."));
    invalid(passwordInput, true, "generate-error");
    passwordInput.focus();
    return;
  }
  if (expiryInput.required && expiryInput.value === "") {
    showError($("token-expiry-error"), new Error("Your organization requires an expiry date: choose one."));
    invalid(expiryInput, true, "token-expiry-error");
    expiryInput.focus();
    return;
  }
  const target = generateTarget;
  const payload = { name };
  const restriction = restrictionOf();
  if (restriction) payload.restriction = restriction;
  const expiresAt = expiryOf(expiryInput.value, target.maxLifetimeMs);
  if (expiresAt) payload.expiresAt = expiresAt;
  if (withPassword) payload.password = passwordInput.value;
  const submit = $("generate-submit");
  submit.disabled = true;
  generateForm.setAttribute("aria-busy", "true");
  try {
    const created = await api("POST", generateBase(), payload);
    payload.password = null;
    await secretAnswered(generateDialog, created, "Token " + created.record.name + " generated.", target.kind);
  } catch (err) {
    if (refusedWithPassword(generateDialog, passwordInput, payload, err)) return;
    const field = err.field || "";
    if (field === "expiresAt") {
      showError($("token-expiry-error"), err);
      invalid(expiryInput, true, "token-expiry-error");
      expiryInput.focus();
    } else if (field.startsWith("restriction")) {
      showError($("restriction-error"), err);
      $("access-restricted").focus();
    } else if (field === "password" && withPassword) {
      showError(error, err);
      invalid(passwordInput, true, "generate-error");
      passwordInput.focus();
    } else {
      showError(error, err);
      invalid(nameInput, true, "generate-error");
      nameInput.focus();
    }
  } finally {
    submit.disabled = false;
    generateForm.removeAttribute("aria-busy");
  }
});

// ── rotating a token (R18): a new secret for the same token, the old one kept for a grace period ──
const rotateDialog = $("rotate-dialog");
const rotateForm = $("rotate-form");
const rotatePassword = $("rotate-password");
let rotateTarget = null;
function rotateNeedsPassword() {
  return rotateTarget !== null && rotateTarget.kind === "user" && !state.me.organization.ssoOnly;
}
function openRotate(target, t, opener) {
  rotateTarget = { ...target, token: t };
  rotateForm.reset();
  $("rotate-error").textContent = "";
  invalid(rotatePassword, false);
  const max = state.me.rotation ? state.me.rotation.maxGraceMs : 0;
  $("rotate-grace").replaceChildren(
    ...GRACE_CHOICES.filter(([ms]) => ms <= max).map(([ms, label]) => {
      const o = document.createElement("option");
      o.value = String(ms);
      o.textContent = label;
      return o;
    }),
  );
  $("rotate-title").textContent = "Rotate " + t.name;
  const withPassword = rotateNeedsPassword();
  $("rotate-password-field").hidden = !withPassword;
  rotatePassword.disabled = !withPassword;
  $("rotate-intro").textContent =
    "A new secret replaces the one of " + t.name + " (" + t.hint + "); the token keeps its name, access and history." + (withPassword ? " Enter your account's password." : "");
  openDialog(rotateDialog, opener);
  $("rotate-grace").focus();
}
rotateDialog.addEventListener("close", () => {
  rotatePassword.value = "";
});
rotateForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("rotate-error");
  error.textContent = "";
  invalid(rotatePassword, false);
  const withPassword = rotateNeedsPassword();
  if (withPassword && rotatePassword.value === "") {
    showError(error, new Error("Enter your password."));
    invalid(rotatePassword, true, "rotate-error");
    rotatePassword.focus();
    return;
  }
  const target = rotateTarget;
  const payload = { graceMs: Number($("rotate-grace").value) };
  if (withPassword) payload.password = rotatePassword.value;
  const submit = $("rotate-submit");
  submit.disabled = true;
  try {
    const path =
      target.kind === "user"
        ? "/tokens/" + encodeURIComponent(target.token.id) + "/rotate"
        : "/service-users/" + encodeURIComponent(target.serviceUser.id) + "/tokens/" + encodeURIComponent(target.token.id) + "/rotate";
    const rotated = await api("POST", path, payload);
    payload.password = null;
    const until = rotated.record.previousSecretUntil;
    const message = "Token " + rotated.record.name + " rotated. " + (until ? "The previous secret works until " + exactFormat.format(new Date(until)) + "." : "The previous secret no longer works.");
    await secretAnswered(rotateDialog, rotated, message, target.kind);
  } catch (err) {
    if (refusedWithPassword(rotateDialog, rotatePassword, payload, err)) return;
    showError(error, err);
    if (err.field === "password" && withPassword) {
      invalid(rotatePassword, true, "rotate-error");
      rotatePassword.focus();
    } else $("rotate-grace").focus();
  } finally {
    submit.disabled = false;
  }
});

// ── "My API tokens" ───────────────────────────────────────────────────────────────────────────
function myActiveRow(t) {
  const tr = row(t.id);
  const actions = document.createElement("span");
  actions.className = "row-actions";
  actions.append(
    button("Rotate", "token " + t.name, "secondary", (b) => openRotate({ kind: "user" }, t, b)),
    button("Revoke", "token " + t.name, "danger", (b) => revokeMine(t, b)),
  );
  tr.append(cell(t.name, null, true), tokenCell(t), timeCell(t.createdAt, "", "Created"), timeCell(t.lastUsedAt, "Never", "Last used"), expiresCell(t), cell(actions, null));
  return tr;
}
function myInactiveRow(t) {
  const tr = row(t.id);
  tr.append(cell(t.name, null, true), cell(code(t.hint), "Token"), timeCell(t.createdAt, "", "Created"), timeCell(t.lastUsedAt, "Never", "Last used"), cell(STATUS[t.status] || t.status, "Status"));
  return tr;
}
const mine = { activeCursor: null, inactiveCursor: null };
async function loadMine() {
  const [active, inactive] = await Promise.all([
    api("GET", "/tokens" + query({ status: "active", sort: "created", order: "desc", limit: 50 })),
    api("GET", "/tokens" + query({ status: "revoked,expired,subject_inactive", sort: "created", order: "desc", limit: INACTIVE_PAGE_SIZE })),
  ]);
  $("my-tokens").querySelector("tbody").replaceChildren(...active.items.map(myActiveRow));
  mine.activeCursor = active.nextCursor;
  $("my-more").hidden = active.nextCursor === null;
  const limit = state.me.limits && state.me.limits.userTokens;
  $("my-count").textContent = limit ? active.total + " of " + limit + " active tokens" : active.total + " active token" + (active.total === 1 ? "" : "s");
  $("my-count").classList.toggle("full", Boolean(limit) && active.total >= limit);
  $("my-tokens").hidden = active.total === 0;
  $("my-empty").hidden = active.total !== 0;
  $("my-inactive").hidden = inactive.total === 0;
  $("my-inactive-summary").textContent = "Revoked and expired tokens (" + inactive.total + ")";
  $("my-inactive-tokens").querySelector("tbody").replaceChildren(...inactive.items.map(myInactiveRow));
  mine.inactiveCursor = inactive.nextCursor;
  $("my-inactive-more").hidden = inactive.nextCursor === null;
}
async function moreMine(which) {
  const active = which === "active";
  const cursor = active ? mine.activeCursor : mine.inactiveCursor;
  if (cursor === null) return;
  const page = await api(
    "GET",
    "/tokens" + query({ status: active ? "active" : "revoked,expired,subject_inactive", sort: "created", order: "desc", limit: active ? 50 : INACTIVE_PAGE_SIZE, cursor }),
  );
  const tbody = $(active ? "my-tokens" : "my-inactive-tokens").querySelector("tbody");
  tbody.append(...page.items.map(active ? myActiveRow : myInactiveRow));
  if (active) mine.activeCursor = page.nextCursor;
  else mine.inactiveCursor = page.nextCursor;
  $(active ? "my-more" : "my-inactive-more").hidden = page.nextCursor === null;
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

// ── the administrator's "API tokens": filtered, searched, sorted and paged by the server ─────
function orgFilter() {
  const [sort, order] = $("org-sort").value.split(":");
  return { status: $("org-status").value, search: $("org-search").value.trim(), sort, order };
}
async function loadOrgTokens(reset) {
  const org = state.org;
  if (reset) {
    org.cursors = [null];
    org.index = 0;
  }
  const f = orgFilter();
  const page = await api("GET", "/organization/tokens" + query({ ...f, limit: ORG_PAGE_SIZE, cursor: org.cursors[org.index] }));
  // A deletion can empty the last page: step back to the one before.
  if (page.items.length === 0 && org.index > 0) {
    org.index--;
    return loadOrgTokens(false);
  }
  org.nextCursor = page.nextCursor;
  $("org-tokens")
    .querySelector("tbody")
    .replaceChildren(
      ...page.items.map((t) => {
        const tr = row(t.id);
        const actions = t.status === "deleted" ? cell("", null) : cell(button("Delete", "token " + t.name + " of " + t.owner.name, "danger", (b) => deleteOrgToken(t, b)), null);
        tr.append(
          cell(t.name, null, true),
          cell(t.owner.name, "Owner"),
          tokenCell(t),
          timeCell(t.createdAt, "", "Created"),
          timeCell(t.lastUsedAt, "Never", "Last used"),
          expiresCell(t),
          cell(STATUS[t.status] || t.status, "Status"),
          actions,
        );
        return tr;
      }),
    );
  const words = STATUS_WORDS[f.status] === undefined ? "" : STATUS_WORDS[f.status];
  const noun = (words ? words + " " : "") + "token" + (page.total === 1 ? "" : "s");
  const from = org.index * ORG_PAGE_SIZE + 1;
  const to = org.index * ORG_PAGE_SIZE + page.items.length;
  $("org-count").textContent =
    page.total === 0
      ? "No " + (words ? words + " " : "") + "tokens" + (f.search ? " match “" + f.search + "”." : ".")
      : (page.total > page.items.length ? "Showing " + from + "–" + to + " of " + page.total + " " : page.total + " ") + noun + (f.search ? " matching “" + f.search + "”" : "");
  $("org-tokens").hidden = page.total === 0;
  $("org-empty").hidden = true;
  const pages = Math.max(1, Math.ceil(page.total / ORG_PAGE_SIZE));
  $("org-pager").hidden = pages <= 1 && org.index === 0;
  $("org-page").textContent = "Page " + (org.index + 1) + " of " + pages;
  $("org-prev").disabled = org.index === 0;
  $("org-next").disabled = page.nextCursor === null;
}
function wireOrgFilter() {
  $("org-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    run(() => loadOrgTokens(true));
  });
  for (const id of ["org-status", "org-sort"]) $(id).addEventListener("change", () => run(() => loadOrgTokens(true)));
  $("org-next").addEventListener("click", () =>
    run(async () => {
      if (state.org.nextCursor === null) return;
      state.org.cursors[state.org.index + 1] = state.org.nextCursor;
      state.org.index++;
      await loadOrgTokens(false);
      $("org-tokens-title").focus();
    }),
  );
  $("org-prev").addEventListener("click", () =>
    run(async () => {
      if (state.org.index === 0) return;
      state.org.index--;
      await loadOrgTokens(false);
      $("org-tokens-title").focus();
    }),
  );
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
  await loadOrgTokens(false);
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
        button("Generate token", "for " + su.name, "", (b) => openGenerate({ kind: "service", serviceUser: su }, b)),
        button("Delete service user", su.name, "danger", (b) => deleteServiceUser(su, b)),
      );
      article.append(h, meta, actions);
      const tokens = su.tokens;
      if (tokens.length === 0) {
        const p = document.createElement("p");
        p.className = "hint";
        p.textContent = "No active tokens.";
        article.append(p);
      } else {
        const table = document.createElement("table");
        table.className = "cards";
        table.setAttribute("role", "table");
        const caption = document.createElement("caption");
        caption.className = "visually-hidden";
        caption.textContent = "Active tokens of " + su.name;
        table.setAttribute("aria-label", caption.textContent);
        const head = document.createElement("thead");
        head.setAttribute("role", "rowgroup");
        const hr = document.createElement("tr");
        hr.setAttribute("role", "row");
        for (const label of ["Name", "Token", "Created", "Last used", "Expires", ""]) {
          const th = document.createElement("th");
          th.scope = "col";
          th.setAttribute("role", "columnheader");
          if (label === "") {
            const span = document.createElement("span");
            span.className = "visually-hidden";
            span.textContent = "Actions";
            th.append(span);
          } else th.textContent = label;
          hr.append(th);
        }
        head.append(hr);
        const tbody = document.createElement("tbody");
        tbody.setAttribute("role", "rowgroup");
        for (const t of tokens) {
          const tr = row(t.id);
          const buttons = document.createElement("span");
          buttons.className = "row-actions";
          buttons.append(button("Rotate", "token " + t.name, "secondary", (b) => openRotate({ kind: "service", serviceUser: su }, t, b)));
          buttons.append(button("Revoke", "token " + t.name, "secondary", (b) => endServiceToken(su, t, "revoke", b)));
          buttons.append(button("Delete", "token " + t.name, "danger", (b) => endServiceToken(su, t, "delete", b)));
          tr.append(cell(t.name, null, true), tokenCell(t), timeCell(t.createdAt, "", "Created"), timeCell(t.lastUsedAt, "Never", "Last used"), expiresCell(t), cell(buttons, null));
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
/** "3 integrations stop: Power BI, used 2 hours ago; …" and one line per token (R20). */
function endingSentence(preview) {
  const n = preview.tokens.length;
  if (n === 0) return "No API token stops working.";
  return n + " integration" + (n === 1 ? "" : "s") + " stop" + (n === 1 ? "s" : "") + ": " + preview.tokens.map((t) => t.name + ", " + usedText(t)).join("; ") + ".";
}
function usedText(t) {
  return t.lastUsedAt ? "used " + relative(new Date(t.lastUsedAt).getTime() - Date.now()) : "never used";
}
function endingItems(preview) {
  return preview.tokens.map((t) => t.name + " (" + (t.kind === "user" ? "user token" : "service token") + "), " + usedText(t) + (t.clients && t.clients.length > 0 ? ", last by " + clientText(t.clients[0]) : ""));
}
async function deleteServiceUser(su, opener) {
  const preview = await api("GET", "/service-users/" + encodeURIComponent(su.id) + "/removal");
  const ok = await confirmAction("Delete service user " + su.name + "?", "Deleting " + su.name + " ends its tokens for good. " + endingSentence(preview), "Delete", opener, endingItems(preview));
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

// ── members: deactivate or remove, after a preview of what stops (R7, R20) ───────────────────────
const MEMBER_STATUS = { active: "Active", deactivated: "Deactivated", left: "Left" };
const membersState = { cursor: null };
function memberRow(m) {
  const tr = row(m.id);
  tr.dataset.memberId = m.id;
  const actions = document.createElement("span");
  actions.className = "row-actions";
  if (!m.self) {
    if (m.status === "active") actions.append(button("Deactivate", m.name, "secondary", (b) => endMember(m, "deactivate", b)));
    if (m.status !== "left") actions.append(button("Remove", m.name + " from the organization", "danger", (b) => endMember(m, "remove", b)));
  }
  tr.append(cell(m.name + (m.self ? " (you)" : ""), null, true), cell(MEMBER_STATUS[m.status] || m.status, "Status"), cell(actions, null));
  return tr;
}
async function loadMembers(more) {
  const page = await api("GET", "/members" + query({ limit: 50, cursor: more ? membersState.cursor : null }));
  const tbody = $("members").querySelector("tbody");
  if (more) tbody.append(...page.items.map(memberRow));
  else tbody.replaceChildren(...page.items.map(memberRow));
  membersState.cursor = page.nextCursor;
  $("members-more").hidden = page.nextCursor === null;
}
async function endMember(m, how, opener) {
  const base = "/members/" + encodeURIComponent(m.id);
  const preview = await api("GET", base + (how === "deactivate" ? "/deactivation" : "/removal"));
  const verb = how === "deactivate" ? "Deactivate" : "Remove";
  const ok = await confirmAction(
    verb + " " + m.name + "?",
    (how === "deactivate" ? "Deactivating " : "Removing ") + m.name + " ends their user API tokens for good. " + endingSentence(preview),
    verb,
    opener,
    endingItems(preview),
  );
  if (!ok) return;
  if (how === "deactivate") await api("POST", base + "/deactivate");
  else await api("DELETE", base);
  announce(m.name + (how === "deactivate" ? " deactivated." : " removed.") + " " + preview.tokens.length + " token" + (preview.tokens.length === 1 ? "" : "s") + " ended.");
  await loadMembers(false);
  if (state.me.can.manageTokens) await loadOrgTokens(false);
  $("members-title").focus();
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
        showError(error, new Error("Enter a name for the service user."));
        invalid(input, true, "service-user-error");
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
        invalid(input, true, "service-user-error");
        input.focus();
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
    $("my-more").addEventListener("click", () => run(() => moreMine("active")));
    $("my-inactive-more").addEventListener("click", () => run(() => moreMine("inactive")));
    await loadMine();
  } else {
    $("org-tokens-title").tabIndex = -1;
    if (me.can.manageTokens) {
      $("org-tokens-section").hidden = false;
      wireOrgFilter();
      await loadOrgTokens(true);
    }
    if (me.can.manageServiceUsers) {
      $("service-users-section").hidden = false;
      $("skip-service-users").hidden = !me.can.manageTokens;
      $("service-users-title").tabIndex = -1;
      wireServiceUserForm();
      await loadSets();
      await loadServiceUsers();
    }
    if (me.can.manageMembers) {
      $("members-section").hidden = false;
      $("members-title").tabIndex = -1;
      $("members-more").addEventListener("click", () => run(() => loadMembers(true)));
      await loadMembers(false);
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
  --on-accent: #ffffff;
  --danger: #b42318;
  --ok: #1a7f37;
  --warn-fg: #6b4100;
  --warn-bg: #fff5d6;
  --warn-line: #d4a72c;
  --soon: #a4320b;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --panel: #161b22; --line: #30363d;
    /* Dark text on the light-blue accent: 8:1, where white was 2.4:1. */
    --accent: #7aa7ff; --on-accent: #0d1117;
    --danger: #ff7b72; --ok: #56d364;
    --warn-fg: #f2cc60; --warn-bg: #272115; --warn-line: #9e6a03; --soon: #ffa657;
  }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); overflow-wrap: anywhere; }
.top { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; align-items: center; justify-content: space-between; padding: 0.75rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--panel); }
.top nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; }
.top .hint { margin: 0; }
.top a, a { color: var(--accent); font-weight: 600; }
.top a { text-decoration: none; }
.top a[aria-current="page"] { color: var(--fg); text-decoration: underline; text-underline-offset: 0.3em; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { margin: 0.5rem 0 0.75rem; font-size: 1.6rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.5rem; }
h3 { margin: 0 0 0.25rem; font-size: 1.05rem; }
.lead { color: var(--muted); max-width: 50rem; }
.hint { color: var(--muted); font-size: 0.9rem; margin: 0.25rem 0; }
.empty { color: var(--muted); margin: 1rem 0; }
.count { font-weight: 600; margin: 0.5rem 0; }
.count.full { color: var(--soon); }
.bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 1rem; margin: 1rem 0; }
.error { color: var(--danger); font-weight: 600; margin: 0.5rem 0; }
.error:empty, .status:empty, .count:empty { display: none; }
.status { color: var(--ok); font-weight: 600; margin: 0.5rem 0; }
.warning { color: var(--warn-fg); background: var(--warn-bg); border: 1px solid var(--warn-line); border-left-width: 4px; border-radius: 6px; padding: 0.6rem 0.8rem; }
.warning p { margin: 0 0 0.5rem; }
table { width: 100%; border-collapse: collapse; margin: 0.75rem 0; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { text-align: left; padding: 0.5rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
thead th { font-size: 0.85rem; color: var(--muted); font-weight: 600; white-space: nowrap; }
tbody th { font-weight: 600; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; white-space: nowrap; }
time, .when { white-space: nowrap; }
.soon { color: var(--soon); font-weight: 600; }
.soon-note { color: var(--soon); font-weight: 600; font-size: 0.85rem; white-space: nowrap; }
button, a.button { font: inherit; display: inline-block; padding: 0.45rem 0.9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--on-accent); cursor: pointer; text-decoration: none; white-space: nowrap; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
button:disabled { opacity: 0.6; cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.row-actions { display: inline-flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.5rem 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; background: var(--panel); }
form.toolbar { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0.5rem 1rem; margin: 1rem 0; }
form.toolbar .field { margin: 0; }
form.toolbar .grow { flex: 1 1 14rem; }
form.toolbar .error { flex-basis: 100%; }
.pager { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; margin: 0.75rem 0; }
.field { display: flex; flex-direction: column; gap: 0.25rem; margin: 0.75rem 0; }
.field[hidden] { display: none; }
label { font-weight: 600; }
input, select { font: inherit; padding: 0.45rem 0.6rem; border: 1px solid var(--muted); border-radius: 6px; background: var(--bg); color: var(--fg); width: 100%; max-width: 28rem; min-width: 0; }
select { width: auto; max-width: 100%; }
input[aria-invalid="true"] { border-color: var(--danger); outline-color: var(--danger); }
dialog { border: 1px solid var(--line); border-radius: 10px; padding: 1.5rem; max-width: 36rem; width: calc(100% - 2rem); color: var(--fg); background: var(--bg); }
dialog::backdrop { background: rgb(0 0 0 / 0.45); }
dialog h2 { margin-top: 0; }
.token-name { font-weight: 600; }
dialog .actions { display: flex; flex-wrap: wrap; justify-content: flex-end; gap: 0.75rem; margin-top: 1.25rem; }
.secret { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; padding: 0.75rem; border: 1px dashed var(--muted); border-radius: 6px; background: var(--panel); }
.secret code { flex: 1 1 12rem; white-space: normal; word-break: break-all; user-select: all; cursor: copy; }
.detail { display: block; font-weight: 400; font-size: 0.85rem; }
.detail.restricted { color: var(--warn-fg); }
.detail.rotation { color: var(--soon); }
td.expiring { background: var(--warn-bg); }
fieldset.field { border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 0.75rem; }
fieldset.field legend { font-weight: 600; padding: 0 0.25rem; }
fieldset.choice label, fieldset.picks label { font-weight: 400; display: inline-flex; align-items: center; gap: 0.35rem; margin-right: 1rem; }
fieldset input[type=radio], fieldset input[type=checkbox] { width: auto; }
.preview { border: 1px dashed var(--line); border-radius: 6px; padding: 0.5rem 0.75rem; margin: 0.75rem 0; }
.preview h3 { font-size: 0.95rem; }
ul.reach, ul.ending { margin: 0.25rem 0; padding-left: 1.25rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }
/* Narrow screens: every row becomes a card, nothing scrolls sideways (WCAG 1.4.10 reflow, down to 320 px). */
@media (max-width: 47.99rem) {
  main { padding: 1rem; }
  .top { padding: 0.75rem 1rem; }
  table.cards, table.cards tbody, table.cards tr, table.cards th, table.cards td { display: block; width: 100%; }
  table.cards caption { display: block; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.cards tr { border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem; margin: 0 0 0.75rem; background: var(--panel); }
  table.cards th, table.cards td { border: 0; padding: 0.15rem 0; }
  table.cards tbody th { font-size: 1.05rem; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-weight: 600; }
  .card table.cards tr { background: var(--bg); }
  dialog { padding: 1rem; }
}
`;
