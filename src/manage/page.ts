/**
 * The two management pages: plain HTML, one small vanilla script and one stylesheet, served by
 * the router itself (no build step, no CDN, nothing fetched from elsewhere).
 * @module
 */
import { PAGE_CSS, PAGE_SCRIPT } from "./page-assets.js";

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b57d0"/><circle cx="6" cy="8" r="3" fill="none" stroke="#fff" stroke-width="1.6"/><path d="M9 8h5M12 8v2.5" stroke="#fff" stroke-width="1.6"/></svg>`;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The assets the pages load, by file name. */
export function pageAssets(): Record<string, { type: string; body: string }> {
  return {
    "manage.js": { type: "text/javascript; charset=utf-8", body: PAGE_SCRIPT },
    "manage.css": { type: "text/css; charset=utf-8", body: PAGE_CSS },
    "favicon.svg": { type: "image/svg+xml", body: FAVICON },
  };
}

const DIALOGS = `
<dialog id="generate-dialog" aria-labelledby="generate-title">
  <form id="generate-form" novalidate>
    <h2 id="generate-title">Generate API token</h2>
    <p id="generate-intro" class="hint"></p>
    <div class="field">
      <label for="token-name">Token name</label>
      <input id="token-name" name="name" maxlength="200" autocomplete="off" required aria-describedby="token-name-hint">
      <p id="token-name-hint" class="hint">For example the integration that will use it.</p>
    </div>
    <div class="field" id="password-field">
      <label for="token-password">Your password</label>
      <input id="token-password" name="password" type="password" autocomplete="current-password" required>
    </div>
    <p id="generate-error" class="error" role="alert"></p>
    <div class="actions">
      <button type="button" class="secondary" data-close>Cancel</button>
      <button type="submit" id="generate-submit">Generate</button>
    </div>
  </form>
</dialog>
<dialog id="secret-dialog" aria-labelledby="secret-title" aria-describedby="secret-help">
  <h2 id="secret-title">Your new API token</h2>
  <p id="secret-help">Copy the token now and save it somewhere safe. Once you close this window it cannot be shown again.</p>
  <div class="secret">
    <code id="secret-value" aria-label="The new API token"></code>
    <button type="button" id="copy-secret">Copy</button>
  </div>
  <p id="copy-status" class="hint" role="status" aria-live="polite"></p>
  <div class="actions">
    <button type="button" id="secret-done">Done</button>
  </div>
</dialog>
<dialog id="confirm-dialog" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
  <h2 id="confirm-title"></h2>
  <p id="confirm-text"></p>
  <div class="actions">
    <button type="button" class="secondary" id="confirm-cancel">Cancel</button>
    <button type="button" class="danger" id="confirm-ok"></button>
  </div>
</dialog>`;

const MINE = `
<h1>My API tokens</h1>
<p class="lead">User API tokens let an integration act as you, with your permissions, groups and sites in this
organization. A token expires after 30 days without use; it stops working for good if you leave the
organization or are deactivated.</p>
<p><button type="button" id="generate">Generate API token</button></p>
<table id="my-tokens">
  <caption>Active tokens</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires if unused</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody></tbody>
</table>
<p id="my-empty" class="hint" hidden>You have no active API tokens.</p>
<details id="my-inactive" hidden>
  <summary>Revoked and expired tokens</summary>
  <table id="my-inactive-tokens">
    <caption class="visually-hidden">Tokens that no longer work</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th></tr></thead>
    <tbody></tbody>
  </table>
</details>`;

const ADMIN = `
<h1>API tokens</h1>
<section aria-labelledby="org-tokens-title" id="org-tokens-section" hidden>
  <h2 id="org-tokens-title">User API tokens</h2>
  <p class="lead">Every user API token in this organization. Deleting a token immediately stops any integration that relies on it.</p>
  <table id="org-tokens">
    <caption class="visually-hidden">User API tokens of the organization</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Owner</th><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="org-empty" class="hint" hidden>No user in this organization has an API token.</p>
</section>
<section aria-labelledby="service-users-title" id="service-users-section" hidden>
  <h2 id="service-users-title">Service users</h2>
  <p class="lead">Service users are not people: they cannot log in, have no groups or sites, and no change to any
  user changes what their tokens may do. Give them a permission set and share items with them.</p>
  <form id="service-user-form" class="inline" novalidate>
    <div class="field">
      <label for="service-user-name">Service user name</label>
      <input id="service-user-name" name="name" maxlength="200" autocomplete="off" required>
    </div>
    <div class="field" id="permission-set-field">
      <label for="service-user-set">Permission set</label>
      <select id="service-user-set" name="permissionSetId"><option value="">No permissions</option></select>
    </div>
    <button type="submit">Create service user</button>
    <p id="service-user-error" class="error" role="alert"></p>
  </form>
  <div id="service-users"></div>
  <p id="service-empty" class="hint" hidden>There are no service users yet.</p>
</section>
<p id="admin-none" hidden>You do not have the permission to manage this organization's API tokens.</p>`;

/** Renders a page. `basePath` is where the router is mounted. */
export function renderPage(page: "mine" | "admin", basePath: string): string {
  const base = escape(basePath);
  const title = page === "mine" ? "My API tokens" : "API tokens";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="${base}/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}/assets/manage.css">
<script type="module" src="${base}/assets/manage.js"></script>
</head>
<body data-page="${page}" data-base="${base}">
<header class="top">
  <nav aria-label="API tokens">
    <a href="${base}/"${page === "mine" ? ' aria-current="page"' : ""}>My API tokens</a>
    <a href="${base}/admin" id="admin-link"${page === "admin" ? ' aria-current="page"' : " hidden"}>Organization API tokens</a>
  </nav>
  <p id="who" class="hint"></p>
</header>
<main id="main" aria-busy="true">
<div id="status" class="status" role="status" aria-live="polite"></div>
<div id="page-error" class="error" role="alert"></div>
${page === "mine" ? MINE : ADMIN}
</main>
${DIALOGS}
</body>
</html>
`;
}
