/**
 * The two management pages: plain HTML, one small vanilla script and one stylesheet, served by
 * the router itself (no build step, no CDN, nothing fetched from elsewhere).
 *
 * The token lifecycle flows: a creation form with "Full access" or "Restricted" and a preview of
 * the reach (R17), an optional expiry under the organization's policy (R19), a Rotate action with
 * a grace period (R18), "expires in N days" with a warning near the end, and, before a member or a
 * service user is ended, the integrations that stop (R20).
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

/** The end of a form that asks the account's password: the field, the form's error, Cancel and the submit button (`<form>-error`, `<form>-submit`). */
const FORM_END = (fieldId: string, inputId: string, label: string, form: string, submit: string) => `<div class="field" id="${fieldId}">
      <label for="${inputId}">${label}</label>
      <input id="${inputId}" name="password" type="password" autocomplete="current-password" required>
    </div>
    <p id="${form}-error" class="error" role="alert"></p>
    <div class="actions">
      <button type="button" class="secondary" data-close>Cancel</button>
      <button type="submit" id="${form}-submit">${submit}</button>
    </div>`;

const DIALOGS = `
<dialog id="generate-dialog" aria-labelledby="generate-title" aria-describedby="generate-intro">
  <form id="generate-form" novalidate>
    <h2 id="generate-title">Generate API token</h2>
    <p id="generate-intro" class="hint"></p>
    <div class="field">
      <label for="token-name">Token name</label>
      <input id="token-name" name="name" maxlength="200" autocomplete="off" required aria-describedby="token-name-hint">
      <p id="token-name-hint" class="hint">For example the integration that will use it.</p>
    </div>
    <fieldset class="field choice" id="access-field">
      <legend>Access</legend>
      <label><input type="radio" name="access" value="full" id="access-full" checked> <span id="access-full-label">Full access (as me)</span></label>
      <label><input type="radio" name="access" value="restricted" id="access-restricted"> Restricted</label>
    </fieldset>
    <div id="restriction" hidden>
      <fieldset class="field picks" id="pick-permissions"><legend>Permissions</legend><div class="options"></div></fieldset>
      <div class="field">
        <label for="pick-level">Highest access level</label>
        <select id="pick-level"><option value="">As held</option><option value="view">View only</option><option value="edit">View and edit</option></select>
      </div>
      <fieldset class="field picks" id="pick-types"><legend>Item types</legend><div class="options"></div></fieldset>
      <fieldset class="field picks" id="pick-groups"><legend>Groups</legend><div class="options"></div></fieldset>
      <fieldset class="field picks" id="pick-sites"><legend>Sites</legend><div class="options"></div></fieldset>
      <p id="restriction-error" class="error" role="alert"></p>
      <section id="reach-preview" class="preview" aria-labelledby="reach-preview-title" aria-live="polite">
        <h3 id="reach-preview-title">What this token will reach</h3>
        <div id="reach-preview-body"><p class="hint">Choose what the token may do.</p></div>
      </section>
    </div>
    <div class="field">
      <label for="token-expiry">Expires on <span id="token-expiry-required" class="hint"></span></label>
      <input id="token-expiry" name="expiresAt" type="date" aria-describedby="token-expiry-hint">
      <p id="token-expiry-hint" class="hint"></p>
      <p id="token-expiry-error" class="error" role="alert"></p>
    </div>
    ${FORM_END("password-field", "token-password", "Your password", "generate", "Generate")}
  </form>
</dialog>
<dialog id="secret-dialog" aria-labelledby="secret-title" aria-describedby="secret-name secret-help">
  <h2 id="secret-title">Your new API token</h2>
  <p id="secret-name" class="token-name"></p>
  <p id="secret-help" class="warning"><span aria-hidden="true">⚠ </span><strong>Copy the token now.</strong> Save it somewhere safe: once you close this window it cannot be shown again.</p>
  <div class="secret">
    <code id="secret-value" title="Click to copy"></code>
    <button type="button" id="copy-secret">Copy</button>
  </div>
  <p id="copy-status" class="hint" role="status" aria-live="polite"></p>
  <div id="secret-confirm" class="warning" role="alert" hidden>
    <p id="secret-confirm-text"><strong>You have not copied the token.</strong> If you close this window now, it is lost and you will need to generate a new one.</p>
    <div class="actions">
      <button type="button" class="danger" id="secret-discard">Close without copying</button>
      <button type="button" id="secret-back">Go back and copy</button>
    </div>
  </div>
  <div class="actions" id="secret-actions">
    <button type="button" id="secret-done">Done</button>
  </div>
</dialog>
<dialog id="rotate-dialog" aria-labelledby="rotate-title" aria-describedby="rotate-intro">
  <form id="rotate-form" novalidate>
    <h2 id="rotate-title">Rotate API token</h2>
    <p id="rotate-intro" class="hint"></p>
    <div class="field">
      <label for="rotate-grace">Keep the current secret working for</label>
      <select id="rotate-grace" aria-describedby="rotate-grace-hint"></select>
      <p id="rotate-grace-hint" class="hint">Time to switch the integration to the new secret. After that, only the new secret works.</p>
    </div>
    ${FORM_END("rotate-password-field", "rotate-password", "Account password", "rotate", "Rotate")}
  </form>
</dialog>
<dialog id="confirm-dialog" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text confirm-list">
  <h2 id="confirm-title"></h2>
  <p id="confirm-text"></p>
  <ul id="confirm-list" class="ending" hidden></ul>
  <div class="actions">
    <button type="button" class="secondary" id="confirm-cancel">Cancel</button>
    <button type="button" class="danger" id="confirm-ok"></button>
  </div>
</dialog>`;

const TOKEN_HEAD = (cols: string[]) =>
  `<thead role="rowgroup"><tr role="row">${cols.map((c) => (c === "" ? `<th scope="col" role="columnheader"><span class="visually-hidden">Actions</span></th>` : `<th scope="col" role="columnheader">${c}</th>`)).join("")}</tr></thead>`;

const MINE = `
<div id="content">
<h1>My API tokens</h1>
<p class="lead">User API tokens let an integration act as you, with your permissions, groups and sites in this
organization, or only part of them (Restricted). A token expires after 30 days without use, or on the date you
choose; it stops working for good if you leave the organization or are deactivated.</p>
<div class="bar">
  <p id="my-count" class="count"></p>
  <button type="button" id="generate">Generate API token</button>
</div>
<table id="my-tokens" class="cards" role="table" aria-labelledby="my-tokens-caption">
  <caption id="my-tokens-caption">Active tokens</caption>
  ${TOKEN_HEAD(["Name", "Token", "Created", "Last used", "Expires", ""])}
  <tbody role="rowgroup"></tbody>
</table>
<p id="my-empty" class="empty" hidden>You have no active API tokens.</p>
<p><button type="button" id="my-more" class="secondary" hidden>Show more active tokens</button></p>
<details id="my-inactive" hidden>
  <summary id="my-inactive-summary">Revoked and expired tokens</summary>
  <table id="my-inactive-tokens" class="cards" role="table" aria-labelledby="my-inactive-summary">
    ${TOKEN_HEAD(["Name", "Token", "Created", "Last used", "Status"])}
    <tbody role="rowgroup"></tbody>
  </table>
  <p><button type="button" id="my-inactive-more" class="secondary" hidden>Show more revoked and expired tokens</button></p>
</details>
</div>`;

const ADMIN = `
<div id="content">
<h1>API tokens</h1>
<section aria-labelledby="org-tokens-title" id="org-tokens-section" hidden>
  <h2 id="org-tokens-title">User API tokens</h2>
  <p class="lead">Every user API token in this organization. Deleting a token immediately stops any integration that relies on it.</p>
  <form id="org-filter" class="toolbar" role="search" aria-label="User API tokens" novalidate>
    <div class="field">
      <label for="org-status">Status</label>
      <select id="org-status" name="status">
        <option value="active" selected>Active</option>
        <option value="expired,subject_inactive">Expired</option>
        <option value="revoked">Revoked</option>
        <option value="deleted">Deleted</option>
        <option value="active,revoked,expired,subject_inactive">All but deleted</option>
      </select>
    </div>
    <div class="field grow">
      <label for="org-search">Search token or owner</label>
      <input id="org-search" name="search" type="search" maxlength="200" autocomplete="off">
    </div>
    <div class="field">
      <label for="org-sort">Sort by</label>
      <select id="org-sort" name="sort">
        <option value="created:desc" selected>Newest first</option>
        <option value="created:asc">Oldest first</option>
        <option value="last_used:desc">Recently used</option>
        <option value="expires:asc">Expiring soonest</option>
      </select>
    </div>
    <button type="submit" class="secondary">Search</button>
  </form>
  <p id="org-count" class="count" role="status" aria-live="polite"></p>
  <table id="org-tokens" class="cards" role="table" aria-labelledby="org-tokens-title">
    ${TOKEN_HEAD(["Name", "Owner", "Token", "Created", "Last used", "Expires", "Status", ""])}
    <tbody role="rowgroup"></tbody>
  </table>
  <p id="org-empty" class="empty" hidden>No user API token matches.</p>
  <nav id="org-pager" class="pager" aria-label="Pages of user API tokens" hidden>
    <button type="button" id="org-prev" class="secondary">Previous page</button>
    <span id="org-page" class="hint"></span>
    <button type="button" id="org-next" class="secondary">Next page</button>
  </nav>
</section>
<section aria-labelledby="service-users-title" id="service-users-section" hidden>
  <h2 id="service-users-title">Service users</h2>
  <p class="lead">Service users are not people: they cannot log in, have no groups or sites, and no change to any
  user changes what their tokens may do. Give them a permission set and share items with them.</p>
  <form id="service-user-form" class="toolbar" novalidate>
    <div class="field grow">
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
  <p id="service-empty" class="empty" hidden>There are no service users yet.</p>
</section>
<section aria-labelledby="members-title" id="members-section" hidden>
  <h2 id="members-title">Members</h2>
  <p class="lead">Deactivating or removing a member ends every one of their user API tokens for good. You see which integrations stop before you confirm.</p>
  <table id="members" class="cards" role="table" aria-labelledby="members-title">
    ${TOKEN_HEAD(["Name", "Status", ""])}
    <tbody role="rowgroup"></tbody>
  </table>
  <p><button type="button" id="members-more" class="secondary" hidden>Show more members</button></p>
</section>
<p id="admin-none" hidden>You do not have the permission to manage this organization's API tokens.</p>
</div>`;

const SIGNED_OUT = (signIn: string | null) => `
<section id="signed-out" aria-labelledby="signed-out-title" hidden>
  <h1 id="signed-out-title">Sign in to manage API tokens</h1>
  <p>You are not signed in, or your session has ended. API tokens belong to your account, so sign in first.</p>
  ${signIn === null ? `<p>Sign in to this application, then come back to this page.</p>` : `<p><a class="button" id="sign-in" href="${signIn}">Sign in</a></p>`}
</section>`;

/** Renders a page. `basePath` is where the router is mounted; `signInUrl` where the signed-out page links to (none: a sentence). */
export function renderPage(page: "mine" | "admin", basePath: string, signInUrl: string | null = null): string {
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
    ${page === "admin" ? `<a href="#service-users-title" id="skip-service-users" hidden>Service users</a>` : ""}
  </nav>
  <p id="who" class="hint"></p>
</header>
<main id="main" aria-busy="true">
<div id="status" class="status" role="status" aria-live="polite"></div>
<div id="page-error" class="error" role="alert"></div>
${SIGNED_OUT(signInUrl === null ? null : escape(signInUrl))}
${page === "mine" ? MINE : ADMIN}
</main>
${DIALOGS}
</body>
</html>
`;
}
