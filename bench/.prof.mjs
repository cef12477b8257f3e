// src/core/lifecycle.ts
var DEFAULT_INACTIVITY_MS = 30 * 24 * 60 * 60 * 1e3;
function lastActivity(token) {
  return token.lastUsedAt === null || token.lastUsedAt < token.createdAt ? token.createdAt : token.lastUsedAt;
}
function isExpired(token, now, inactivityMs) {
  if (token.expiredAt !== null) return true;
  return token.kind === "user" && now >= lastActivity(token) + inactivityMs;
}
function inactivityDeadline(token, inactivityMs) {
  return token.kind === "user" ? lastActivity(token) + inactivityMs : null;
}
function subjectState(subject) {
  if (subject.kind === "user") {
    const m = subject.membership;
    return { active: m !== null && m.status === "active", epoch: m === null ? null : m.epoch };
  }
  return { active: subject.serviceUser !== null && subject.serviceUser.status === "active", epoch: null };
}
function tokenStatus(token, subject, now, inactivityMs) {
  if (token.deletedAt !== null) return "deleted";
  if (token.revokedAt !== null) return "revoked";
  if (isExpired(token, now, inactivityMs)) return "expired";
  if (!subject.active) return "subject_inactive";
  if (token.kind === "user" && token.epoch !== subject.epoch) return "subject_inactive";
  return "active";
}
function isTokenActive(token, subject, now, inactivityMs) {
  return tokenStatus(token, subject, now, inactivityMs) === "active";
}
function joinMembership(current, orgId, userId, fields, newEpoch) {
  if (current?.status === "active") return updateMembershipFields(current, fields);
  return {
    orgId,
    userId,
    permissionSetId: fields.permissionSetId ?? null,
    groupIds: fields.groupIds ?? [],
    siteIds: fields.siteIds ?? [],
    seat: fields.seat ?? true,
    status: "active",
    epoch: newEpoch
  };
}
function updateMembershipFields(current, fields) {
  return {
    ...current,
    permissionSetId: fields.permissionSetId !== void 0 ? fields.permissionSetId : current.permissionSetId,
    groupIds: fields.groupIds ?? current.groupIds,
    siteIds: fields.siteIds ?? current.siteIds,
    seat: fields.seat ?? current.seat
  };
}
function deactivateMembership(current) {
  return { ...current, status: "deactivated" };
}
function reactivateMembership(current, newEpoch) {
  if (current.status === "active") return current;
  return { ...current, status: "active", epoch: newEpoch };
}
function leaveMembership(current) {
  return { ...current, status: "left", groupIds: [], siteIds: [], seat: false };
}

// src/core/decide.ts
var LEVEL_RANK = { view: 1, edit: 2, delete: 3 };
var MAX_RANK = 3;
function subjectRef(subject, token) {
  if (subject.kind === "user") return { kind: "user", id: subject.user.id, name: subject.user.name };
  return { kind: "service_user", id: token.subjectId, name: subject.serviceUser?.name ?? token.subjectId };
}
function checkToken(input, now, inactivityMs) {
  const { token, subject } = input;
  if (token.revokedAt !== null || token.deletedAt !== null) return "token_revoked";
  if (isExpired(token, now, inactivityMs)) return "token_expired";
  if (subject.kind !== token.kind) return "token_unknown";
  if (subject.kind === "user") {
    const m = subject.membership;
    return m === null || m.status !== "active" || token.epoch !== m.epoch ? "subject_inactive" : null;
  }
  return subject.serviceUser !== null && subject.serviceUser.status === "active" ? null : "subject_inactive";
}
function granteeIncludes(grantee2, input, crossOrg) {
  const { subject, token } = input;
  switch (grantee2.kind) {
    case "user":
      return subject.kind === "user" && grantee2.userId === token.subjectId;
    case "service_user":
      return subject.kind === "service_user" && grantee2.serviceUserId === token.subjectId;
    case "organization":
      return grantee2.orgId === token.orgId && (subject.kind === "user" || grantee2.includeServiceUsers);
    case "group":
      return !crossOrg && subject.kind === "user" && subject.membership !== null && subject.membership.groupIds.includes(grantee2.groupId);
    case "site": {
      if (crossOrg || subject.kind !== "user" || subject.membership === null) return false;
      const path = input.sitePaths[grantee2.siteId];
      if (path === void 0) return false;
      const mine = subject.membership.siteIds;
      for (let i = 0; i < path.length; i++) if (mine.includes(path[i])) return true;
      return false;
    }
  }
}
function ruleMatches(rule, item) {
  if (rule.orgId !== item.orgId || rule.itemType !== item.type) return false;
  for (const key in rule.conditions) {
    const value = item.attributes?.[key];
    if (value === void 0 || !rule.conditions[key].includes(value)) return false;
  }
  return true;
}
function bestGrant(input, item) {
  const crossOrg = item.orgId !== input.token.orgId;
  let bestShare = null;
  let bestRule = null;
  let bestRank = 0;
  const shares = input.shares;
  for (let i = 0; i < shares.length && bestRank < MAX_RANK; i++) {
    const share = shares[i];
    const rank = LEVEL_RANK[share.level];
    if (rank <= bestRank) continue;
    if (!granteeIncludes(share.grantee, input, crossOrg)) continue;
    const key = share.item;
    if (key.id !== item.id || key.type !== item.type || key.orgId !== item.orgId) continue;
    bestShare = share;
    bestRank = rank;
  }
  const rules = input.rules;
  for (let i = 0; i < rules.length && bestRank < MAX_RANK; i++) {
    const rule = rules[i];
    const rank = LEVEL_RANK[rule.level];
    if (rank <= bestRank) continue;
    if (!ruleMatches(rule, item) || !granteeIncludes(rule.grantee, input, crossOrg)) continue;
    bestRule = rule;
    bestRank = rank;
  }
  if (bestRule !== null) return { source: "rule", id: bestRule.id, via: bestRule.grantee.kind, level: bestRule.level, crossOrg };
  if (bestShare !== null) return { source: "share", id: bestShare.id, via: bestShare.grantee.kind, level: bestShare.level, crossOrg };
  return null;
}
function decide(input, action, definition, item, now, options) {
  const { token } = input;
  const tokenReason = checkToken(input, now, options.inactivityMs);
  const subject = subjectRef(input.subject, token);
  if (tokenReason !== null) {
    if (tokenReason === "token_unknown") return { allowed: false, reason: tokenReason, action };
    return { allowed: false, reason: tokenReason, action, subject, orgId: token.orgId, tokenId: token.id };
  }
  if (definition === void 0) {
    return { allowed: false, reason: "permission_denied", action, subject, orgId: token.orgId, tokenId: token.id, unknownAction: true };
  }
  if (!input.subject.permissions.includes(definition.permission)) {
    return { allowed: false, reason: "permission_denied", action, subject, orgId: token.orgId, tokenId: token.id };
  }
  if (definition.access === void 0) {
    return { allowed: true, reason: "allowed", action, subject, orgId: token.orgId, tokenId: token.id };
  }
  const grant = item === null || item.type !== definition.item ? null : bestGrant(input, item);
  if (grant === null || LEVEL_RANK[grant.level] < LEVEL_RANK[definition.access]) {
    return {
      allowed: false,
      reason: "access_denied",
      action,
      subject,
      orgId: token.orgId,
      tokenId: token.id,
      visible: grant !== null
    };
  }
  return { allowed: true, reason: "allowed", action, subject, orgId: token.orgId, tokenId: token.id, grant };
}

// src/core/errors.ts
var ERROR_CODES = {
  invalid_input: "The input is not valid.",
  invalid_config: "The configuration is not valid.",
  not_found: "Not found.",
  already_exists: "It already exists.",
  token_limit_reached: "The limit of active tokens is reached (R3). Revoke or delete one first.",
  reauthentication_failed: "Re-authentication failed: the password is wrong or missing (R4).",
  login_not_allowed: "Service user tokens cannot be used to log in (R9).",
  service_user_not_allowed: "Service users have no groups and no sites (R9): share items with them or name them in a rule.",
  forbidden: "The acting user lacks the permission this needs (R11, R12).",
  unavailable: "The token store is unavailable. Try again later.",
  token_malformed: "The token is malformed.",
  token_unknown: "The token is not known.",
  token_revoked: "The token was revoked or deleted.",
  token_expired: "The token has expired.",
  subject_inactive: "The token's subject is no longer active.",
  permission_denied: "The token's subject lacks the permission for this action.",
  access_denied: "The token's subject has no access to this item at the level the action needs."
};
var KeywardError = class extends Error {
  name = "KeywardError";
  code;
  constructor(code, message, options = {}) {
    super(message ?? ERROR_CODES[code], options.cause === void 0 ? void 0 : { cause: options.cause });
    this.code = code;
    if (options.field !== void 0) this.field = options.field;
    if (options.action !== void 0) this.action = options.action;
    if (options.item !== void 0) this.item = options.item;
    if (options.visible !== void 0) this.visible = options.visible;
  }
  /** A plain, serialisable form (for logs and problem bodies): code, message and field. */
  toJSON() {
    return this.field === void 0 ? { name: this.name, code: this.code, message: this.message } : { name: this.name, code: this.code, message: this.message, field: this.field };
  }
};
function storeFailure(e) {
  if (e instanceof KeywardError) return e;
  return new KeywardError("unavailable", void 0, { cause: e });
}

// src/service/schemas.ts
import { z } from "zod";
var id = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
var name = z.string().trim().min(1).max(200).regex(/^[^\p{Cc}]+$/u, "must not contain control characters");
var permission = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/);
var level = z.enum(["view", "edit", "delete"]);
var grantee = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("user"), userId: id }).strict(),
  z.object({ kind: z.literal("service_user"), serviceUserId: id }).strict(),
  z.object({ kind: z.literal("group"), groupId: id }).strict(),
  z.object({ kind: z.literal("site"), siteId: id }).strict(),
  z.object({ kind: z.literal("organization"), orgId: id, includeServiceUsers: z.boolean().default(false) }).strict()
]);
var itemKey = z.object({ orgId: id, type: id, id });
function parseInput(schema, input, root = "") {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [root, ...(issue?.path ?? []).map(String)].filter((p) => p !== "").join(".");
  throw new KeywardError("invalid_input", `Invalid input${path ? ` at "${path}"` : ""}: ${issue?.message ?? "invalid"}.`, {
    field: path || root,
    cause: result.error
  });
}
var MAX_ID = 200;
function badItem(field, why) {
  return new KeywardError("invalid_input", `Invalid input at "${field}": ${why}.`, { field });
}
function isId(v) {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_ID;
}
function checkItem(item) {
  if (typeof item !== "object" || item === null || Array.isArray(item)) throw badItem("item", "expected an object");
  const it = item;
  if (!isId(it.orgId)) throw badItem("item.orgId", "expected a string of 1\u2013200 characters");
  if (!isId(it.type)) throw badItem("item.type", "expected a string of 1\u2013200 characters");
  if (!isId(it.id)) throw badItem("item.id", "expected a string of 1\u2013200 characters");
  const attrs = it.attributes;
  if (attrs !== void 0) {
    if (typeof attrs !== "object" || attrs === null || Array.isArray(attrs)) {
      throw badItem("item.attributes", "expected an object of strings");
    }
    for (const key of Object.keys(attrs)) {
      const v = attrs[key];
      if (v !== void 0 && typeof v !== "string") throw badItem(`item.attributes.${key}`, "expected a string");
    }
  }
  return it;
}

// src/service/authorize.ts
function itemKey2(item) {
  return { orgId: item.orgId, type: item.type, id: item.id };
}
async function load(ctx, raw2, item) {
  const kind = ctx.parse(raw2);
  if (kind === null) return "token_malformed";
  let input;
  try {
    input = await ctx.store.loadDecision(ctx.hash(raw2), item);
  } catch (e) {
    throw storeFailure(e);
  }
  if (input === null || input.token.kind !== kind) return "token_unknown";
  return input;
}
var ignore = () => {
};
function recordUse(ctx, input, now) {
  try {
    ctx.store.recordTokenUse(input.token.id, now).catch(ignore);
  } catch {
  }
}
async function recordExpiry(ctx, input, reason, now) {
  const { token } = input;
  if (reason === "token_expired" && token.expiredAt === null) {
    let first = false;
    try {
      first = await ctx.store.markTokenExpired(token.id, now);
    } catch {
      return;
    }
    if (first) {
      ctx.emit({
        type: "token.expired",
        at: now,
        tokenId: token.id,
        orgId: token.orgId,
        subject: subjectRef(input.subject, token),
        tokenName: token.name,
        cause: "inactivity"
      });
    }
  }
}
async function authorize(ctx, rawToken, action, item, options) {
  if (typeof action !== "string") throw new KeywardError("invalid_input", 'Invalid input at "action": expected a string.', { field: "action" });
  const checked = item === void 0 || item === null ? null : checkItem(item);
  const definition = ctx.actions.get(action);
  if (definition?.access !== void 0 && checked === null) {
    throw new KeywardError("invalid_input", `Invalid input at "item": action "${action}" acts on an item of type "${definition.item}".`, { field: "item" });
  }
  if (definition !== void 0 && definition.access !== void 0 && checked !== null && checked.type !== definition.item) {
    throw new KeywardError("invalid_input", `Invalid input at "item.type": action "${action}" acts on items of type "${definition.item}".`, { field: "item.type" });
  }
  let loaded;
  const kind = ctx.parse(rawToken);
  if (kind === null) loaded = "token_malformed";
  else {
    let input;
    try {
      input = await ctx.store.loadDecision(ctx.hash(rawToken), definition?.access === void 0 ? null : checked);
    } catch (e) {
      throw storeFailure(e);
    }
    loaded = input === null || input.token.kind !== kind ? "token_unknown" : input;
  }
  const now = ctx.now();
  let decision;
  if (typeof loaded === "string") {
    decision = { allowed: false, reason: loaded, action };
  } else {
    decision = decide(loaded, action, definition, checked, now, { inactivityMs: ctx.inactivityMs });
    if (decision.allowed || decision.reason === "permission_denied" || decision.reason === "access_denied") recordUse(ctx, loaded, now);
    else await recordExpiry(ctx, loaded, decision.reason, now);
  }
  if (ctx.hasSink) {
    ctx.emit({
      type: "authorization",
      at: now,
      outcome: decision.allowed ? "allowed" : "denied",
      reason: decision.reason,
      action,
      ...checked === null ? {} : { item: itemKey2(checked) },
      ...decision.tokenId === void 0 ? {} : { tokenId: decision.tokenId, orgId: decision.orgId, subject: decision.subject },
      ...decision.allowed && decision.grant ? { grant: decision.grant } : {},
      ...options?.request ? { request: options.request } : {}
    });
  }
  return decision;
}
async function assertAuthorized(ctx, rawToken, action, item, options) {
  const d = await authorize(ctx, rawToken, action, item, options);
  if (d.allowed) return d;
  throw new KeywardError(d.reason, void 0, {
    action,
    ...item ? { item: itemKey2(item) } : {},
    ...d.visible === void 0 ? {} : { visible: d.visible }
  });
}
async function login(ctx, rawToken) {
  const loaded = await load(ctx, rawToken, null);
  const now = ctx.now();
  let reason;
  let subject;
  if (typeof loaded === "string") {
    reason = loaded;
  } else {
    const tokenReason = checkToken(loaded, now, ctx.inactivityMs);
    if (tokenReason === null) recordUse(ctx, loaded, now);
    else await recordExpiry(ctx, loaded, tokenReason, now);
    subject = subjectRef(loaded.subject, loaded.token);
    reason = tokenReason ?? (loaded.token.kind === "service_user" ? "login_not_allowed" : "allowed");
  }
  const token = typeof loaded === "string" ? void 0 : loaded.token;
  ctx.emit({
    type: "login",
    at: now,
    outcome: reason === "allowed" ? "allowed" : "denied",
    reason,
    ...token && subject ? { tokenId: token.id, orgId: token.orgId, subject } : {}
  });
  if (reason !== "allowed" || token === void 0 || subject === void 0) {
    throw new KeywardError(reason);
  }
  return { subject, orgId: token.orgId, tokenId: token.id };
}

// src/service/context.ts
import { customAlphabet } from "nanoid";
import { z as z2 } from "zod";

// src/core/secret.ts
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
function nodeCrypto() {
  const proc = globalThis.process;
  try {
    return proc?.getBuiltinModule?.("node:crypto") ?? null;
  } catch {
    return null;
  }
}
var encoder = new TextEncoder();
function base64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function tokenHasher(pepper, options = {}) {
  const node = options.preferNode === false ? null : nodeCrypto();
  if (pepper === void 0) {
    const oneShot = node?.hash;
    if (oneShot) return (token) => oneShot("sha256", token, "base64url");
    return (token) => base64url(sha256(encoder.encode(token)));
  }
  const key = typeof pepper === "string" ? encoder.encode(pepper) : pepper;
  if (node) return (token) => node.createHmac("sha256", key).update(token).digest("base64url");
  return (token) => base64url(hmac(sha256, key, encoder.encode(token)));
}

// src/core/token-format.ts
var ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
var BODY_LENGTH = 43;
var CHECKSUM_LENGTH = 6;
var MAX_TOKEN_LENGTH = 255;
var DEFAULT_PREFIXES = { user: "kwu", service_user: "kws" };
var PREFIX_RE = /^[a-z][a-z0-9]{1,15}$/;
function isValidPrefix(prefix) {
  return PREFIX_RE.test(prefix);
}
var CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 3988292384 ^ c >>> 1 : c >>> 1;
    t[n] = c;
  }
  return t;
})();
function crc32(s2, end) {
  let c = -1;
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ s2.charCodeAt(i)) & 255] ^ c >>> 8;
  return (c ^ -1) >>> 0;
}
function encodeFixed(value, length) {
  let out = "";
  for (let i = 0; i < length; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}
function decodeFixed(s2, start) {
  let n = 0;
  for (let i = start; i < s2.length; i++) {
    const c = s2.charCodeAt(i);
    n = n * 62 + (c <= 57 ? c - 48 : c <= 90 ? c - 55 : c - 61);
  }
  return n;
}
function checksumOf(prefixAndBody) {
  return encodeFixed(crc32(prefixAndBody, prefixAndBody.length), CHECKSUM_LENGTH);
}
function randomBody() {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let n = 0n;
  for (const b of bytes) n = n << 8n | BigInt(b);
  let out = "";
  for (let i = 0; i < BODY_LENGTH; i++) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}
function generateToken(kind, prefixes = DEFAULT_PREFIXES) {
  const head = `${prefixes[kind]}_${randomBody()}`;
  return head + checksumOf(head);
}
function tokenParser(prefixes = DEFAULT_PREFIXES) {
  const userHead = `${prefixes.user}_`;
  const serviceHead = `${prefixes.service_user}_`;
  const matches = (raw2, head) => {
    if (raw2.length !== head.length + BODY_LENGTH + CHECKSUM_LENGTH || !raw2.startsWith(head)) return false;
    const end = raw2.length - CHECKSUM_LENGTH;
    let c32 = -1;
    for (let i = 0; i < head.length; i++) c32 = CRC_TABLE[(c32 ^ raw2.charCodeAt(i)) & 255] ^ c32 >>> 8;
    for (let i = head.length; i < raw2.length; i++) {
      const c = raw2.charCodeAt(i);
      if (!(c >= 48 && c <= 57 || c >= 65 && c <= 90 || c >= 97 && c <= 122)) return false;
      if (i < end) c32 = CRC_TABLE[(c32 ^ c) & 255] ^ c32 >>> 8;
    }
    return decodeFixed(raw2, end) === (c32 ^ -1) >>> 0;
  };
  return (raw2) => {
    if (typeof raw2 !== "string" || raw2.length > MAX_TOKEN_LENGTH) return null;
    if (matches(raw2, userHead)) return "user";
    if (matches(raw2, serviceHead)) return "service_user";
    return null;
  };
}
function tokenHint(token) {
  const sep = token.indexOf("_");
  return `${token.slice(0, sep + 1)}\u2026${token.slice(-4)}`;
}

// src/service/context.ts
var DEFAULT_MANAGEMENT_PERMISSIONS = {
  manageTokens: "api_tokens:manage",
  manageServiceUsers: "service_users:manage"
};
var actionSchema = z2.object({
  permission: z2.string().min(1).max(200),
  access: z2.enum(["view", "edit", "delete"]).optional(),
  item: z2.string().min(1).max(200).optional()
}).strict().refine((a) => a.access === void 0 === (a.item === void 0), {
  message: "an item action needs both `access` and `item`; an organization-level action neither"
});
var optionsSchema = z2.object({
  store: z2.custom((s2) => typeof s2 === "object" && s2 !== null && typeof s2.loadDecision === "function", "expected a keyward store"),
  actions: z2.record(z2.string().min(1).max(200), actionSchema),
  limits: z2.object({ userTokensPerUser: z2.number().int().min(1).max(1e4).optional(), serviceTokensPerOrg: z2.number().int().min(1).max(1e4).optional() }).optional(),
  inactivityMs: z2.number().int().min(1).optional(),
  prefixes: z2.object({ user: z2.string().optional(), service_user: z2.string().optional() }).optional(),
  permissions: z2.object({ manageTokens: z2.string().min(1).optional(), manageServiceUsers: z2.string().min(1).optional() }).optional()
});
var nano = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 16);
function createContext(options) {
  try {
    parseInput(optionsSchema, options, "options");
  } catch (e) {
    const err = e;
    throw new KeywardError("invalid_config", err.message.replace("Invalid input", "Invalid configuration"), { field: err.field, cause: err.cause });
  }
  const prefixes = { ...DEFAULT_PREFIXES, ...options.prefixes };
  if (!isValidPrefix(prefixes.user) || !isValidPrefix(prefixes.service_user) || prefixes.user === prefixes.service_user) {
    throw new KeywardError("invalid_config", "Token prefixes must be 2\u201316 lowercase letters or digits, start with a letter, and differ per kind.", { field: "options.prefixes" });
  }
  const actions = /* @__PURE__ */ new Map();
  for (const [name2, def] of Object.entries(options.actions)) actions.set(name2, Object.freeze({ ...def }));
  const clock = options.clock ?? Date.now;
  let high = -Infinity;
  const sink = options.onEvent;
  const onEventError = options.onEventError;
  return {
    store: options.store,
    actions,
    verifyPassword: options.verifyPassword,
    limits: {
      userTokensPerUser: options.limits?.userTokensPerUser ?? 10,
      serviceTokensPerOrg: options.limits?.serviceTokensPerOrg ?? 20
    },
    inactivityMs: options.inactivityMs ?? DEFAULT_INACTIVITY_MS,
    prefixes,
    parse: tokenParser(prefixes),
    hash: tokenHasher(options.pepper),
    permissions: { ...DEFAULT_MANAGEMENT_PERMISSIONS, ...options.permissions },
    now() {
      const t = clock();
      if (t > high) high = t;
      return high;
    },
    newId: (prefix) => `${prefix}_${nano()}`,
    hasSink: sink !== void 0,
    emit(event) {
      if (sink === void 0) return;
      try {
        sink(event);
      } catch (e) {
        onEventError?.(e, event);
      }
    },
    async call(f) {
      try {
        return await f();
      } catch (e) {
        throw storeFailure(e);
      }
    }
  };
}

// src/service/directory.ts
import { z as z4 } from "zod";

// src/service/tokens.ts
import { z as z3 } from "zod";
var createUserSchema = z3.object({ orgId: id, userId: id, name, password: z3.string().max(1024).optional() }).strict();
var createServiceSchema = z3.object({ orgId: id, serviceUserId: id, name, actorId: id }).strict();
var listMineSchema = z3.object({ orgId: id, userId: id }).strict();
var adminSchema = z3.object({ orgId: id, actorId: id }).strict();
var tokenActionSchema = z3.object({ orgId: id, tokenId: id, actorId: id }).strict();
var sweepSchema = z3.object({ orgId: id }).strict();
function toView(ctx, entry2, now) {
  const { token } = entry2;
  const status = tokenStatus(token, entry2.subject, now, ctx.inactivityMs);
  return {
    id: token.id,
    kind: token.kind,
    orgId: token.orgId,
    subjectId: token.subjectId,
    subjectName: entry2.subjectName,
    name: token.name,
    hint: token.hint,
    createdAt: token.createdAt,
    createdBy: token.createdBy,
    lastUsedAt: token.lastUsedAt,
    status,
    expiresAt: status === "active" ? inactivityDeadline(token, ctx.inactivityMs) : null
  };
}
async function requirePermission(ctx, orgId, actorId, permission2) {
  const m = await ctx.call(() => ctx.store.getMembership(orgId, actorId));
  if (m === null || m.status !== "active" || m.permissionSetId === null) throw new KeywardError("forbidden");
  const set = await ctx.call(() => ctx.store.getPermissionSet(m.permissionSetId));
  if (set === null || set.orgId !== orgId || !set.permissions.includes(permission2)) throw new KeywardError("forbidden");
}
function tokenEvent(type, token, subject, at, actorId, cause) {
  return {
    type,
    at,
    tokenId: token.id,
    orgId: token.orgId,
    subject,
    tokenName: token.name,
    actorId,
    ...cause ? { cause } : {}
  };
}
async function insert(ctx, kind, orgId, subject, tokenName, epoch, createdBy, max) {
  const now = ctx.now();
  const secret = generateToken(kind, ctx.prefixes);
  const record = {
    id: ctx.newId("tok"),
    kind,
    orgId,
    subjectId: subject.id,
    name: tokenName,
    hash: ctx.hash(secret),
    hint: tokenHint(secret),
    epoch,
    createdAt: now,
    createdBy,
    lastUsedAt: null,
    revokedAt: null,
    deletedAt: null,
    expiredAt: null
  };
  const result = await ctx.call(() => ctx.store.insertToken(record, { max, now, inactivityMs: ctx.inactivityMs }));
  if (!result.ok) {
    if (result.reason === "limit_reached") {
      throw new KeywardError(
        "token_limit_reached",
        kind === "user" ? `This user already has ${max} active API tokens in this organization (R3). Revoke one first.` : `This organization already has ${max} active service user tokens (R3). Revoke one first.`
      );
    }
    throw new KeywardError("forbidden", "The token's subject is not an active member of the organization.");
  }
  ctx.emit(tokenEvent("token.created", record, subject, now, createdBy));
  const view = toView(ctx, { token: record, subjectName: subject.name, subject: { active: true, epoch } }, now);
  return { token: secret, record: view };
}
async function createUserToken(ctx, input) {
  const { orgId, userId, name: tokenName, password } = parseInput(createUserSchema, input);
  const org = await ctx.call(() => ctx.store.getOrganization(orgId));
  if (org === null) throw new KeywardError("not_found", "No such organization.");
  const [user, membership] = await ctx.call(() => Promise.all([ctx.store.getUser(userId), ctx.store.getMembership(orgId, userId)]));
  if (user === null || membership === null || membership.status !== "active") {
    throw new KeywardError("forbidden", "Only an active member of the organization can create a user token.");
  }
  if (!org.ssoOnly) {
    if (ctx.verifyPassword === void 0) {
      throw new KeywardError("invalid_config", "Creating user tokens needs the verifyPassword option unless the organization is SSO-only (R4).", { field: "options.verifyPassword" });
    }
    let ok = false;
    if (typeof password === "string" && password.length > 0) {
      try {
        ok = await ctx.verifyPassword(userId, password) === true;
      } catch (e) {
        throw new KeywardError("reauthentication_failed", void 0, { cause: e });
      }
    }
    if (!ok) throw new KeywardError("reauthentication_failed");
  }
  const subject = { kind: "user", id: user.id, name: user.name };
  return insert(ctx, "user", orgId, subject, tokenName, membership.epoch, userId, ctx.limits.userTokensPerUser);
}
async function createServiceToken(ctx, input) {
  const { orgId, serviceUserId, name: tokenName, actorId } = parseInput(createServiceSchema, input);
  await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers);
  const su = await ctx.call(() => ctx.store.getServiceUser(serviceUserId));
  if (su === null || su.orgId !== orgId || su.status !== "active") throw new KeywardError("not_found", "No such service user.");
  const subject = { kind: "service_user", id: su.id, name: su.name };
  return insert(ctx, "service_user", orgId, subject, tokenName, null, actorId, ctx.limits.serviceTokensPerOrg);
}
async function list(ctx, filter) {
  const entries = await ctx.call(() => ctx.store.listTokens(filter));
  const now = ctx.now();
  return entries.filter((e) => e.token.deletedAt === null).map((e) => toView(ctx, e, now));
}
async function listMine(ctx, input) {
  const { orgId, userId } = parseInput(listMineSchema, input);
  return list(ctx, { orgId, kind: "user", subjectId: userId });
}
async function listOrganization(ctx, input) {
  const { orgId, actorId } = parseInput(adminSchema, input);
  await requirePermission(ctx, orgId, actorId, ctx.permissions.manageTokens);
  return list(ctx, { orgId, kind: "user" });
}
async function listServiceTokens(ctx, input) {
  const { orgId, actorId } = parseInput(adminSchema, input);
  await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers);
  return list(ctx, { orgId, kind: "service_user" });
}
async function subjectOf(ctx, token) {
  if (token.kind === "user") {
    const u = await ctx.call(() => ctx.store.getUser(token.subjectId));
    return { kind: "user", id: token.subjectId, name: u?.name ?? token.subjectId };
  }
  const su = await ctx.call(() => ctx.store.getServiceUser(token.subjectId));
  return { kind: "service_user", id: token.subjectId, name: su?.name ?? token.subjectId };
}
async function endToken(ctx, token, actorId, how) {
  const now = ctx.now();
  const result = await ctx.call(() => ctx.store.revokeToken(token.id, now, how));
  if (result === null) throw new KeywardError("not_found", "No such token.");
  if (result.changed) {
    ctx.emit(tokenEvent(how === "revoke" ? "token.revoked" : "token.deleted", result.token, await subjectOf(ctx, result.token), now, actorId));
  }
}
async function revoke(ctx, input) {
  const { orgId, tokenId, actorId } = parseInput(tokenActionSchema, input);
  const token = await ctx.call(() => ctx.store.getToken(tokenId));
  if (token === null || token.orgId !== orgId || token.deletedAt !== null) throw new KeywardError("not_found", "No such token.");
  if (token.kind === "user") {
    if (token.subjectId !== actorId) throw new KeywardError("not_found", "No such token.");
  } else {
    await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers);
  }
  await endToken(ctx, token, actorId, "revoke");
}
async function deleteToken(ctx, input) {
  const { orgId, tokenId, actorId } = parseInput(tokenActionSchema, input);
  const token = await ctx.call(() => ctx.store.getToken(tokenId));
  const permission2 = token?.kind === "service_user" ? ctx.permissions.manageServiceUsers : ctx.permissions.manageTokens;
  await requirePermission(ctx, orgId, actorId, permission2);
  if (token === null || token.orgId !== orgId || token.deletedAt !== null) throw new KeywardError("not_found", "No such token.");
  await endToken(ctx, token, actorId, "delete");
}
function emitSubjectExpiry(ctx, entries, before, at) {
  for (const e of entries) {
    if (tokenStatus(e.token, before, at, ctx.inactivityMs) !== "active") continue;
    const subject = { kind: e.token.kind, id: e.token.subjectId, name: e.subjectName };
    ctx.emit(tokenEvent("token.expired", e.token, subject, at, null, "subject_inactive"));
  }
}
async function sweepExpired(ctx, input) {
  const { orgId } = parseInput(sweepSchema, input);
  const entries = await ctx.call(() => ctx.store.listTokens({ orgId, kind: "user" }));
  const now = ctx.now();
  let recorded = 0;
  for (const e of entries) {
    const { token } = e;
    if (token.expiredAt !== null || token.revokedAt !== null || token.deletedAt !== null) continue;
    if (!e.subject.active || token.epoch !== e.subject.epoch || !isExpired(token, now, ctx.inactivityMs)) continue;
    if (!await ctx.call(() => ctx.store.markTokenExpired(token.id, now))) continue;
    recorded++;
    ctx.emit(tokenEvent("token.expired", token, { kind: "user", id: token.subjectId, name: e.subjectName }, now, null, "inactivity"));
  }
  return recorded;
}

// src/service/directory.ts
var orgSchema = z4.object({ id: id.optional(), name, ssoOnly: z4.boolean().default(false) }).strict();
var orgUpdateSchema = z4.object({ id, name: name.optional(), ssoOnly: z4.boolean().optional() }).strict();
var userSchema = z4.object({ id: id.optional(), name }).strict();
var memberFields = {
  permissionSetId: id.nullable().optional(),
  groupIds: z4.array(id).max(1e3).optional(),
  siteIds: z4.array(id).max(1e3).optional(),
  seat: z4.boolean().optional()
};
var memberSchema = z4.object({ orgId: id, userId: id, ...memberFields }).strict();
var memberRefSchema = z4.object({ orgId: id, userId: id }).strict();
var permissionSetSchema = z4.object({ id: id.optional(), orgId: id, name, permissions: z4.array(permission).max(1e3) }).strict();
var permissionSetUpdateSchema = z4.object({ id, name: name.optional(), permissions: z4.array(permission).max(1e3).optional() }).strict();
var groupSchema = z4.object({ id: id.optional(), orgId: id, name }).strict();
var siteSchema = z4.object({ id: id.optional(), orgId: id, name, parentId: id.nullable().optional() }).strict();
var placementSchema = z4.object({ orgId: id, subjectId: id, groupId: id.optional(), siteId: id.optional() }).strict();
var serviceUserSchema = z4.object({ id: id.optional(), orgId: id, name, permissionSetId: id.nullable().optional(), actorId: id }).strict();
var serviceUserUpdateSchema = z4.object({ orgId: id, id, name: name.optional(), permissionSetId: id.nullable().optional(), actorId: id }).strict();
var serviceUserRefSchema = z4.object({ orgId: id, id, actorId: id }).strict();
var shareSchema = z4.object({ id: id.optional(), item: itemKey, grantee, level }).strict();
var ruleSchema = z4.object({
  id: id.optional(),
  orgId: id,
  itemType: id,
  conditions: z4.record(id, z4.array(z4.string().min(1).max(200)).min(1).max(1e3)).default({}),
  grantee,
  level
}).strict();
function directory(ctx) {
  const { store: store2 } = ctx;
  const call = ctx.call;
  async function mustOrg(orgId, field = "orgId") {
    const org = await call(() => store2.getOrganization(orgId));
    if (org === null) throw new KeywardError("not_found", "No such organization.", { field });
    return org;
  }
  async function checkPermissionSet(orgId, setId, field) {
    if (setId === null || setId === void 0) return;
    const set = await call(() => store2.getPermissionSet(setId));
    if (set === null || set.orgId !== orgId) throw new KeywardError("not_found", "No such permission set in this organization.", { field });
  }
  async function checkGroups(orgId, ids, field) {
    for (const g of ids ?? []) {
      const group = await call(() => store2.getGroup(g));
      if (group === null || group.orgId !== orgId) throw new KeywardError("not_found", `No such group in this organization: ${g}.`, { field });
    }
  }
  async function checkSites(orgId, ids, field) {
    for (const s2 of ids ?? []) {
      const site = await call(() => store2.getSite(s2));
      if (site === null || site.orgId !== orgId) throw new KeywardError("not_found", `No such site in this organization: ${s2}.`, { field });
    }
  }
  async function refuseServiceUser(subjectId) {
    const su = await call(() => store2.getServiceUser(subjectId));
    if (su !== null) throw new KeywardError("service_user_not_allowed", void 0, { field: "subjectId" });
  }
  async function checkGrantee(g, ownerOrg) {
    switch (g.kind) {
      case "user":
        if (await call(() => store2.getUser(g.userId)) === null) throw new KeywardError("not_found", "No such user.", { field: "grantee.userId" });
        return;
      case "service_user":
        if (await call(() => store2.getServiceUser(g.serviceUserId)) === null) throw new KeywardError("not_found", "No such service user.", { field: "grantee.serviceUserId" });
        return;
      case "group":
        return checkGroups(ownerOrg, [g.groupId], "grantee.groupId");
      case "site":
        return checkSites(ownerOrg, [g.siteId], "grantee.siteId");
      case "organization":
        await mustOrg(g.orgId, "grantee.orgId");
        return;
    }
  }
  async function changeMembership(orgId, userId, change, { ifLeft = "refuse" } = {}) {
    let before = null;
    const after = await call(
      () => store2.updateMembership(orgId, userId, (current) => {
        if (current === null || current.status === "left" && ifLeft === "refuse") {
          throw new KeywardError("not_found", "No such member: a user who left rejoins through addMember.", { field: "userId" });
        }
        if (current.status === "left") return current;
        before = { active: current.status === "active", epoch: current.epoch };
        return change(current);
      })
    );
    const was = before;
    if (was !== null && was.active && after.status !== "active" && ctx.hasSink) {
      const entries = await call(() => store2.listTokens({ orgId, kind: "user", subjectId: userId }));
      emitSubjectExpiry(ctx, entries, was, ctx.now());
    }
    return after;
  }
  return {
    /**
     * Creates an organization. `ssoOnly` means it allows no non-SSO login: creating a user token
     * then asks no password (R4).
     * @example `const org = await kw.directory.createOrganization({ name: "Acme", ssoOnly: false })`
     */
    async createOrganization(input) {
      const v = parseInput(orgSchema, input);
      const org = { id: v.id ?? ctx.newId("org"), name: v.name, ssoOnly: v.ssoOnly };
      if (v.id !== void 0 && await call(() => store2.getOrganization(org.id)) !== null) throw new KeywardError("already_exists", "That organization exists already.", { field: "id" });
      await call(() => store2.putOrganization(org));
      return org;
    },
    /** Updates an organization's name or SSO-only flag. @example `await kw.directory.updateOrganization({ id: org.id, ssoOnly: true })` */
    async updateOrganization(input) {
      const v = parseInput(orgUpdateSchema, input);
      const org = await mustOrg(v.id, "id");
      const next = { ...org, ...v.name !== void 0 ? { name: v.name } : {}, ...v.ssoOnly !== void 0 ? { ssoOnly: v.ssoOnly } : {} };
      await call(() => store2.putOrganization(next));
      return next;
    },
    /** Creates or renames a person (R1). @example `const ana = await kw.directory.upsertUser({ id: "u_ana", name: "Ana Silva" })` */
    async upsertUser(input) {
      const v = parseInput(userSchema, input);
      const user = { id: v.id ?? ctx.newId("usr"), name: v.name };
      await call(() => store2.putUser(user));
      return user;
    },
    /**
     * Adds a user to an organization, or re-adds one who left or was deactivated — with a new
     * epoch, so their old tokens stay dead (R7). For an active member, updates the given fields.
     * @example `await kw.directory.addMember({ orgId, userId, permissionSetId: inspectors.id, groupIds: [g.id] })`
     */
    async addMember(input) {
      const v = parseInput(memberSchema, input);
      await mustOrg(v.orgId);
      if (await call(() => store2.getUser(v.userId)) === null) throw new KeywardError("not_found", "No such user.", { field: "userId" });
      await refuseServiceUser(v.userId);
      await checkPermissionSet(v.orgId, v.permissionSetId, "permissionSetId");
      await checkGroups(v.orgId, v.groupIds, "groupIds");
      await checkSites(v.orgId, v.siteIds, "siteIds");
      const epoch = ctx.newId("ep");
      return call(() => store2.updateMembership(v.orgId, v.userId, (current) => joinMembership(current, v.orgId, v.userId, v, epoch)));
    },
    /**
     * Changes a member's permission set, groups, sites or seat. Takes effect on the member's next
     * request (R12, R13).
     * @example `await kw.directory.updateMember({ orgId, userId, permissionSetId: viewers.id })`
     */
    async updateMember(input) {
      const v = parseInput(memberSchema, input);
      await checkPermissionSet(v.orgId, v.permissionSetId, "permissionSetId");
      await checkGroups(v.orgId, v.groupIds, "groupIds");
      await checkSites(v.orgId, v.siteIds, "siteIds");
      return changeMembership(v.orgId, v.userId, (m) => updateMembershipFields(m, v));
    },
    /** Deactivates a member: their user tokens stop working at once and for good (R7). @example `await kw.directory.deactivateMember({ orgId, userId })` */
    async deactivateMember(input) {
      const v = parseInput(memberRefSchema, input);
      return changeMembership(v.orgId, v.userId, deactivateMembership);
    },
    /** Reactivates a member. Their old tokens stay dead (R7); they create new ones. @example `await kw.directory.reactivateMember({ orgId, userId })` */
    async reactivateMember(input) {
      const v = parseInput(memberRefSchema, input);
      const epoch = ctx.newId("ep");
      return changeMembership(v.orgId, v.userId, (m) => reactivateMembership(m, epoch));
    },
    /** Removes a member from the organization: their user tokens die for good (R7). @example `await kw.directory.removeMember({ orgId, userId })` */
    async removeMember(input) {
      const v = parseInput(memberRefSchema, input);
      return changeMembership(v.orgId, v.userId, leaveMembership, { ifLeft: "keep" });
    },
    /**
     * The organization's user list: its members (active and deactivated) with their names.
     * Service users are never in it (R9).
     * @example `const people = await kw.directory.listMembers(orgId)`
     */
    async listMembers(orgId) {
      const v = parseInput(id, orgId, "orgId");
      const all = await call(() => store2.listMembers(v));
      return all.filter((e) => e.membership.status !== "left");
    },
    /**
     * Billable seats: active members holding a seat, each counted once however many tokens they
     * hold (R10); service users never count (R9).
     * @example `const seats = await kw.directory.seatCount(orgId)`
     */
    async seatCount(orgId) {
      const v = parseInput(id, orgId, "orgId");
      const all = await call(() => store2.listMembers(v));
      return all.filter((e) => e.membership.status === "active" && e.membership.seat).length;
    },
    /** Creates a permission set (R12). @example `await kw.directory.createPermissionSet({ orgId, name: "Inspector", permissions: ["inspections:view"] })` */
    async createPermissionSet(input) {
      const v = parseInput(permissionSetSchema, input);
      await mustOrg(v.orgId);
      const set = { id: v.id ?? ctx.newId("ps"), orgId: v.orgId, name: v.name, permissions: [...new Set(v.permissions)] };
      await call(() => store2.putPermissionSet(set));
      return set;
    },
    /** Changes a permission set: every subject holding it sees the change on its next request (R12). @example `await kw.directory.updatePermissionSet({ id: set.id, permissions: [] })` */
    async updatePermissionSet(input) {
      const v = parseInput(permissionSetUpdateSchema, input);
      const set = await call(() => store2.getPermissionSet(v.id));
      if (set === null) throw new KeywardError("not_found", "No such permission set.", { field: "id" });
      const next = { ...set, ...v.name !== void 0 ? { name: v.name } : {}, ...v.permissions !== void 0 ? { permissions: [...new Set(v.permissions)] } : {} };
      await call(() => store2.putPermissionSet(next));
      return next;
    },
    /** Creates a group (R13). @example `const g = await kw.directory.createGroup({ orgId, name: "Auditors" })` */
    async createGroup(input) {
      const v = parseInput(groupSchema, input);
      await mustOrg(v.orgId);
      const group = { id: v.id ?? ctx.newId("grp"), orgId: v.orgId, name: v.name };
      await call(() => store2.putGroup(group));
      return group;
    },
    /**
     * Creates a site, optionally below another (region › area › site). Membership of a site
     * covers every site below it (R13).
     * @example `const north = await kw.directory.createSite({ orgId, name: "North", parentId: region.id })`
     */
    async createSite(input) {
      const v = parseInput(siteSchema, input);
      await mustOrg(v.orgId);
      let path = [];
      if (v.parentId) {
        const parent = await call(() => store2.getSite(v.parentId));
        if (parent === null || parent.orgId !== v.orgId) throw new KeywardError("not_found", "No such parent site in this organization.", { field: "parentId" });
        path = parent.path;
      }
      const siteId = v.id ?? ctx.newId("site");
      const site = { id: siteId, orgId: v.orgId, name: v.name, parentId: v.parentId ?? null, path: [...path, siteId] };
      await call(() => store2.putSite(site));
      return site;
    },
    /**
     * Adds a member to a group or a site (give `groupId` or `siteId`). A service user cannot
     * join either: `service_user_not_allowed` (R9).
     * @example `await kw.directory.addTo({ orgId, subjectId: userId, groupId })`
     */
    async addTo(input) {
      const v = parseInput(placementSchema, input);
      await refuseServiceUser(v.subjectId);
      if (v.groupId === void 0 === (v.siteId === void 0)) throw new KeywardError("invalid_input", "Give exactly one of groupId and siteId.", { field: "groupId" });
      if (v.groupId) await checkGroups(v.orgId, [v.groupId], "groupId");
      if (v.siteId) await checkSites(v.orgId, [v.siteId], "siteId");
      return changeMembership(v.orgId, v.subjectId, (m) => ({
        ...m,
        groupIds: v.groupId && !m.groupIds.includes(v.groupId) ? [...m.groupIds, v.groupId] : m.groupIds,
        siteIds: v.siteId && !m.siteIds.includes(v.siteId) ? [...m.siteIds, v.siteId] : m.siteIds
      }));
    },
    /** Removes a member from a group or a site; takes effect on the next request. @example `await kw.directory.removeFrom({ orgId, subjectId: userId, siteId })` */
    async removeFrom(input) {
      const v = parseInput(placementSchema, input);
      await refuseServiceUser(v.subjectId);
      return changeMembership(v.orgId, v.subjectId, (m) => ({
        ...m,
        groupIds: m.groupIds.filter((g) => g !== v.groupId),
        siteIds: m.siteIds.filter((s2) => s2 !== v.siteId)
      }));
    },
    /**
     * Shares an item with a grantee at a level (R13). To share with another organization, name it
     * (or one of its users or service users) as the grantee (R14).
     * @example `await kw.directory.share({ item: { orgId, type: "template", id: "tpl_1" }, grantee: { kind: "group", groupId }, level: "edit" })`
     */
    async share(input) {
      const v = parseInput(shareSchema, input);
      await mustOrg(v.item.orgId, "item.orgId");
      await checkGrantee(v.grantee, v.item.orgId);
      const share = { id: v.id ?? ctx.newId("shr"), item: v.item, grantee: v.grantee, level: v.level, createdAt: ctx.now() };
      await call(() => store2.putShare(share));
      return share;
    },
    /** Removes a share; takes effect for the next request (R13). `false` if there was none. @example `await kw.directory.unshare(share.id)` */
    async unshare(shareId) {
      const v = parseInput(id, shareId, "shareId");
      return call(() => store2.deleteShare(v));
    },
    /** The shares of one item. @example `await kw.directory.listShares({ orgId, type: "template", id: "tpl_1" })` */
    async listShares(item) {
      const v = parseInput(itemKey, item, "item");
      return call(() => store2.listShares(v));
    },
    /**
     * Adds an access rule: items of `itemType` in the organization whose attributes match every
     * condition are accessible to the grantee at the level (R13).
     * @example `await kw.directory.addRule({ orgId, itemType: "inspection", conditions: { siteId: [north.id] }, grantee: { kind: "site", siteId: north.id }, level: "view" })`
     */
    async addRule(input) {
      const v = parseInput(ruleSchema, input);
      await mustOrg(v.orgId);
      await checkGrantee(v.grantee, v.orgId);
      const rule = { id: v.id ?? ctx.newId("rul"), orgId: v.orgId, itemType: v.itemType, conditions: v.conditions, grantee: v.grantee, level: v.level, createdAt: ctx.now() };
      await call(() => store2.putRule(rule));
      return rule;
    },
    /** Removes an access rule; takes effect for the next request. @example `await kw.directory.removeRule(rule.id)` */
    async removeRule(ruleId) {
      const v = parseInput(id, ruleId, "ruleId");
      return call(() => store2.deleteRule(v));
    }
  };
}
function serviceUsers(ctx) {
  const { store: store2, call } = ctx;
  async function checkSet(orgId, setId) {
    if (setId === null || setId === void 0) return;
    const set = await call(() => store2.getPermissionSet(setId));
    if (set === null || set.orgId !== orgId) throw new KeywardError("not_found", "No such permission set in this organization.", { field: "permissionSetId" });
  }
  return {
    /**
     * Creates a service user with a permission set of its own (R1, R8). Its tokens act with that
     * set and with the shares and rules that name it; no change to any user affects them.
     * @example `const bot = await kw.serviceUsers.create({ orgId, name: "BI export", permissionSetId: readers.id, actorId: admin.id })`
     */
    async create(input) {
      const v = parseInput(serviceUserSchema, input);
      await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      await checkSet(v.orgId, v.permissionSetId);
      const suId = v.id ?? ctx.newId("svc");
      if (v.id !== void 0 && await call(() => store2.getUser(suId)) !== null) throw new KeywardError("already_exists", "A user has that id.", { field: "id" });
      return call(
        () => store2.updateServiceUser(suId, (current) => {
          if (current !== null) throw new KeywardError("already_exists", "That service user exists already.", { field: "id" });
          return { id: suId, orgId: v.orgId, name: v.name, permissionSetId: v.permissionSetId ?? null, status: "active", createdBy: v.actorId, createdAt: ctx.now() };
        })
      );
    },
    /** Renames a service user or changes its permission set (R12). @example `await kw.serviceUsers.update({ orgId, id: bot.id, permissionSetId: writers.id, actorId })` */
    async update(input) {
      const v = parseInput(serviceUserUpdateSchema, input);
      await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      await checkSet(v.orgId, v.permissionSetId);
      return call(
        () => store2.updateServiceUser(v.id, (current) => {
          if (current === null || current.orgId !== v.orgId || current.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "id" });
          return { ...current, ...v.name !== void 0 ? { name: v.name } : {}, ...v.permissionSetId !== void 0 ? { permissionSetId: v.permissionSetId } : {} };
        })
      );
    },
    /** Deletes a service user: its tokens stop working at once (R11). @example `await kw.serviceUsers.remove({ orgId, id: bot.id, actorId })` */
    async remove(input) {
      const v = parseInput(serviceUserRefSchema, input);
      await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      await call(
        () => store2.updateServiceUser(v.id, (current) => {
          if (current === null || current.orgId !== v.orgId || current.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "id" });
          return { ...current, status: "deleted" };
        })
      );
      if (ctx.hasSink) {
        const entries = await call(() => store2.listTokens({ orgId: v.orgId, kind: "service_user", subjectId: v.id }));
        emitSubjectExpiry(ctx, entries, { active: true, epoch: null }, ctx.now());
      }
    },
    /** The organization's active service users. @example `const bots = await kw.serviceUsers.list({ orgId, actorId })` */
    async list(input) {
      const v = parseInput(z4.object({ orgId: id, actorId: id }).strict(), input);
      await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      const all = await call(() => store2.listServiceUsers(v.orgId));
      return all.filter((s2) => s2.status === "active");
    }
  };
}

// src/keyward.ts
function createKeyward(options) {
  const ctx = createContext(options);
  return {
    /**
     * May this token perform this action on this item? Resolves to a {@link Decision} whose
     * reason is one of R15's, checked in order. Throws only `invalid_input` (a malformed item
     * or action) or `unavailable` (the store failed): never an allow on failure.
     * @example `const d = await kw.authorize(token, "inspections.edit", { orgId, type: "inspection", id })`
     */
    authorize: (token, action, item, opts) => authorize(ctx, token, action, item, opts),
    /**
     * The throwing form of {@link authorize}: resolves to the allowed decision or throws a
     * `KeywardError` whose code is the denial's reason, carrying the action and item.
     * @example `const { subject } = await kw.assertAuthorized(token, "templates.view", item)`
     */
    assertAuthorized: (token, action, item, opts) => assertAuthorized(ctx, token, action, item, opts),
    /**
     * Logs in with a user token (R10). A service user token throws `login_not_allowed` (R9); a
     * token that does not authenticate throws with its reason as the code.
     * @example `const session = await kw.login(token) // { subject, orgId, tokenId }`
     */
    login: (token) => login(ctx, token),
    /** Token management (R3–R11). */
    tokens: {
      /** Creates a user token for a member; checks the password unless the organization is SSO-only (R3, R4, R5). The secret is returned once. @example `const { token, record } = await kw.tokens.createUserToken({ orgId, userId, name: "CI", password })` */
      createUserToken: (input) => createUserToken(ctx, input),
      /** Creates a service user token; the actor needs `service_users:manage` (R3, R8, R11). @example `const { token } = await kw.tokens.createServiceToken({ orgId, serviceUserId, name: "BI", actorId: admin })` */
      createServiceToken: (input) => createServiceToken(ctx, input),
      /** A user's own tokens in one organization, without secrets (R5, R10). @example `const mine = await kw.tokens.listMine({ orgId, userId })` */
      listMine: (input) => listMine(ctx, input),
      /** Every user token of the organization; the actor needs `api_tokens:manage` (R11). @example `const all = await kw.tokens.listOrganization({ orgId, actorId: admin })` */
      listOrganization: (input) => listOrganization(ctx, input),
      /** Every service user token of the organization; the actor needs `service_users:manage` (R11). @example `const bots = await kw.tokens.listServiceTokens({ orgId, actorId: admin })` */
      listServiceTokens: (input) => listServiceTokens(ctx, input),
      /** Revokes a token: a user their own, a service-user manager a service token (R11). Effective for the next request. @example `await kw.tokens.revoke({ orgId, tokenId, actorId: userId })` */
      revoke: (input) => revoke(ctx, input),
      /** Deletes any user token of the organization as an administrator, or a service token as a service-user manager (R11). @example `await kw.tokens.delete({ orgId, tokenId, actorId: admin })` */
      delete: (input) => deleteToken(ctx, input),
      /** Records and announces (R16) the inactivity expiry of tokens nobody presented since they expired; run it periodically. @example `setInterval(() => kw.tokens.sweepExpired({ orgId }), 3_600_000)` */
      sweepExpired: (input) => sweepExpired(ctx, input)
    },
    /** The directory: organizations, users, memberships, permission sets, groups, sites, shares, rules. */
    directory: directory(ctx),
    /** Service users (R1, R8, R9, R11). */
    serviceUsers: serviceUsers(ctx),
    /** The store, for hosts that need it (migrations, closing). */
    store: ctx.store,
    /** Closes the store. @example `await kw.close()` */
    close: () => ctx.store.close()
  };
}

// src/storage/memory.ts
var NONE = Object.freeze([]);
var NO_PATHS = Object.freeze({});
function entry(list2) {
  return { list: list2, paths: null, rules: null, at: -1 };
}
function nested(outer, a) {
  let inner = outer.get(a);
  if (inner === void 0) outer.set(a, inner = /* @__PURE__ */ new Map());
  return inner;
}
function memoryStore() {
  const orgs = /* @__PURE__ */ new Map();
  const users = /* @__PURE__ */ new Map();
  const memberships = /* @__PURE__ */ new Map();
  const permissionSets = /* @__PURE__ */ new Map();
  const groups = /* @__PURE__ */ new Map();
  const sites = /* @__PURE__ */ new Map();
  const serviceUsers2 = /* @__PURE__ */ new Map();
  const shares = /* @__PURE__ */ new Map();
  const sharesByItem = /* @__PURE__ */ new Map();
  const rules = /* @__PURE__ */ new Map();
  const rulesByType = /* @__PURE__ */ new Map();
  let sitesVersion = 0;
  const tokens = /* @__PURE__ */ new Map();
  const tokensByHash = /* @__PURE__ */ new Map();
  let subjectsVersion = 0;
  const tokensByOrg = /* @__PURE__ */ new Map();
  const tokensByOwner = /* @__PURE__ */ new Map();
  const ownerKey = (t) => t.kind === "user" ? `${t.orgId}\0u\0${t.subjectId}` : `${t.orgId}\0s`;
  const permissionsOf = (setId, orgId) => {
    if (setId === null) return NONE;
    const set = permissionSets.get(setId);
    return set === void 0 || set.orgId !== orgId ? NONE : set.permissions;
  };
  function loadSubject(token) {
    if (token.kind === "user") {
      const user = users.get(token.subjectId) ?? { id: token.subjectId, name: token.subjectId };
      const membership = memberships.get(token.orgId)?.get(token.subjectId) ?? null;
      return {
        kind: "user",
        user,
        membership,
        permissions: membership === null ? NONE : permissionsOf(membership.permissionSetId, token.orgId)
      };
    }
    const su = serviceUsers2.get(token.subjectId) ?? null;
    return {
      kind: "service_user",
      serviceUser: su,
      permissions: su === null ? NONE : permissionsOf(su.permissionSetId, su.orgId)
    };
  }
  function pathsOf(shareList, ruleList) {
    let paths = null;
    for (let i = 0; i < shareList.length + ruleList.length; i++) {
      const g = i < shareList.length ? shareList[i].grantee : ruleList[i - shareList.length].grantee;
      const site = g.kind === "site" ? sites.get(g.siteId) : void 0;
      if (site === void 0) continue;
      if (paths === null) paths = /* @__PURE__ */ Object.create(null);
      paths[site.id] = site.path;
    }
    return paths === null ? NO_PATHS : Object.freeze(paths);
  }
  function cachedPaths(e, shareList, ruleList) {
    if (e.paths === null || e.rules !== ruleList || e.at !== sitesVersion) {
      e.paths = pathsOf(shareList, ruleList);
      e.rules = ruleList;
      e.at = sitesVersion;
    }
    return e.paths;
  }
  function itemShares(item) {
    return sharesByItem.get(item.orgId)?.get(item.type)?.get(item.id);
  }
  function packShares(list2) {
    const packed = list2.map((s2) => Object.freeze({ ...s2 }));
    for (const s2 of packed) shares.set(s2.id, s2);
    return packed;
  }
  function packSubject(subject) {
    if (subject.kind === "service_user") return Object.freeze({ ...subject });
    const m = subject.membership;
    return Object.freeze({
      ...subject,
      user: Object.freeze({ ...subject.user }),
      membership: m === null ? null : Object.freeze({ ...m, groupIds: Object.freeze([...m.groupIds]), siteIds: Object.freeze([...m.siteIds]) })
    });
  }
  const grantees = /* @__PURE__ */ new Map();
  function internGrantee(g) {
    const key = JSON.stringify(g);
    let frozen = grantees.get(key);
    if (frozen === void 0) grantees.set(key, frozen = Object.freeze({ ...g }));
    return frozen;
  }
  function stateOf(token) {
    return subjectState(loadSubject(token));
  }
  function subjectName(token) {
    return token.kind === "user" ? users.get(token.subjectId)?.name ?? token.subjectId : serviceUsers2.get(token.subjectId)?.name ?? token.subjectId;
  }
  return {
    async putOrganization(org) {
      orgs.set(org.id, Object.freeze({ ...org }));
    },
    async getOrganization(orgId) {
      return orgs.get(orgId) ?? null;
    },
    async putUser(user) {
      users.set(user.id, Object.freeze({ ...user }));
      subjectsVersion++;
    },
    async getUser(userId) {
      return users.get(userId) ?? null;
    },
    async getMembership(orgId, userId) {
      return memberships.get(orgId)?.get(userId) ?? null;
    },
    async updateMembership(orgId, userId, update) {
      const byUser = nested(memberships, orgId);
      const next = update(byUser.get(userId) ?? null);
      const frozen = Object.freeze({ ...next, groupIds: [...next.groupIds], siteIds: [...next.siteIds] });
      byUser.set(userId, frozen);
      subjectsVersion++;
      return frozen;
    },
    async listMembers(orgId) {
      const out = [];
      for (const m of memberships.get(orgId)?.values() ?? []) {
        out.push({ membership: m, user: users.get(m.userId) ?? { id: m.userId, name: m.userId } });
      }
      return out;
    },
    async putPermissionSet(set) {
      permissionSets.set(set.id, Object.freeze({ ...set, permissions: [...set.permissions] }));
      subjectsVersion++;
    },
    async getPermissionSet(id2) {
      return permissionSets.get(id2) ?? null;
    },
    async putGroup(group) {
      groups.set(group.id, Object.freeze({ ...group }));
    },
    async getGroup(id2) {
      return groups.get(id2) ?? null;
    },
    async putSite(site) {
      sites.set(site.id, Object.freeze({ ...site, path: [...site.path] }));
      sitesVersion++;
    },
    async getSite(id2) {
      return sites.get(id2) ?? null;
    },
    async getServiceUser(id2) {
      return serviceUsers2.get(id2) ?? null;
    },
    async updateServiceUser(id2, update) {
      const next = Object.freeze({ ...update(serviceUsers2.get(id2) ?? null) });
      serviceUsers2.set(id2, next);
      subjectsVersion++;
      return next;
    },
    async listServiceUsers(orgId) {
      return [...serviceUsers2.values()].filter((s2) => s2.orgId === orgId);
    },
    async putShare(share) {
      const byId = nested(nested(sharesByItem, share.item.orgId), share.item.type);
      const current = byId.get(share.item.id)?.list ?? NONE;
      const item = current[0]?.item ?? Object.freeze({ orgId: share.item.orgId, type: share.item.type, id: share.item.id });
      byId.set(share.item.id, entry(packShares([...current.filter((s2) => s2.id !== share.id), { ...share, item, grantee: internGrantee(share.grantee) }])));
    },
    async deleteShare(shareId) {
      const share = shares.get(shareId);
      if (share === void 0) return false;
      shares.delete(shareId);
      const byId = nested(nested(sharesByItem, share.item.orgId), share.item.type);
      const rest = (byId.get(share.item.id)?.list ?? NONE).filter((s2) => s2.id !== shareId);
      if (rest.length === 0) byId.delete(share.item.id);
      else byId.set(share.item.id, entry(packShares(rest)));
      return true;
    },
    async listShares(item) {
      return [...itemShares(item)?.list ?? NONE];
    },
    async putRule(rule) {
      const frozen = Object.freeze({ ...rule, grantee: { ...rule.grantee } });
      rules.set(rule.id, frozen);
      const byType = nested(rulesByType, rule.orgId);
      byType.set(rule.itemType, entry([...(byType.get(rule.itemType)?.list ?? NONE).filter((r) => r.id !== rule.id), frozen]));
    },
    async deleteRule(ruleId) {
      const rule = rules.get(ruleId);
      if (rule === void 0) return false;
      rules.delete(ruleId);
      const byType = nested(rulesByType, rule.orgId);
      byType.set(rule.itemType, entry((byType.get(rule.itemType)?.list ?? NONE).filter((r) => r.id !== ruleId)));
      return true;
    },
    async insertToken(token, quota) {
      const state = stateOf(token);
      if (!state.active || token.kind === "user" && token.epoch !== state.epoch) {
        return { ok: false, reason: "subject_inactive" };
      }
      let active = 0;
      const owner = ownerKey(token);
      for (const t of tokensByOwner.get(owner) ?? NONE) {
        if (isTokenActive(t, stateOf(t), quota.now, quota.inactivityMs)) active++;
      }
      if (active >= quota.max) return { ok: false, reason: "limit_reached" };
      const record = { ...token };
      tokens.set(record.id, record);
      tokensByHash.set(record.hash, { token: record, subject: null, at: -1 });
      const list2 = tokensByOrg.get(record.orgId);
      if (list2 === void 0) tokensByOrg.set(record.orgId, [record]);
      else list2.push(record);
      const mine = tokensByOwner.get(owner);
      if (mine === void 0) tokensByOwner.set(owner, [record]);
      else mine.push(record);
      return { ok: true };
    },
    async getToken(tokenId) {
      const t = tokens.get(tokenId);
      return t === void 0 ? null : { ...t };
    },
    async listTokens(filter) {
      const out = [];
      for (const t of tokensByOrg.get(filter.orgId) ?? NONE) {
        if (filter.kind !== void 0 && t.kind !== filter.kind) continue;
        if (filter.subjectId !== void 0 && t.subjectId !== filter.subjectId) continue;
        out.push({ token: { ...t }, subjectName: subjectName(t), subject: stateOf(t) });
      }
      return out;
    },
    async revokeToken(tokenId, at, how) {
      const t = tokens.get(tokenId);
      if (t === void 0) return null;
      const changed = how === "delete" ? t.deletedAt === null : t.deletedAt === null && t.revokedAt === null;
      if (changed) {
        if (how === "delete") t.deletedAt = at;
        else t.revokedAt = at;
      }
      return { token: { ...t }, changed };
    },
    async markTokenExpired(tokenId, at) {
      const t = tokens.get(tokenId);
      if (t === void 0 || t.expiredAt !== null) return false;
      t.expiredAt = at;
      return true;
    },
    async recordTokenUse(tokenId, at) {
      const t = tokens.get(tokenId);
      if (t === void 0 || t.expiredAt !== null) return;
      if (t.lastUsedAt === null || at > t.lastUsedAt) t.lastUsedAt = at;
    },
    async loadDecision(tokenHash, item) {
      const slot = tokensByHash.get(tokenHash);
      if (slot === void 0) return null;
      const token = slot.token;
      if (slot.at !== subjectsVersion) {
        slot.subject = packSubject(loadSubject(token));
        slot.at = subjectsVersion;
      }
      const subject = slot.subject;
      if (item === null) return { token, subject, shares: NONE, rules: NONE, sitePaths: NO_PATHS };
      const shareEntry = itemShares(item);
      const ruleEntry = rulesByType.get(item.orgId)?.get(item.type);
      const shareList = shareEntry?.list ?? NONE;
      const ruleList = ruleEntry?.list ?? NONE;
      const sitePaths = shareEntry !== void 0 ? cachedPaths(shareEntry, shareList, ruleList) : ruleEntry !== void 0 ? cachedPaths(ruleEntry, NONE, ruleList) : NO_PATHS;
      return { token, subject, shares: shareList, rules: ruleList, sitePaths };
    },
    async close() {
    }
  };
}

// bench/load.ts
async function loadMemory(s2) {
  const store2 = memoryStore();
  for (const o of s2.orgs) await store2.putOrganization(o);
  for (const u of s2.users) await store2.putUser(u);
  for (const p of s2.permissionSets) await store2.putPermissionSet(p);
  for (const g of s2.groups) await store2.putGroup(g);
  for (const x of s2.sites) await store2.putSite(x);
  for (const m of s2.memberships) await store2.updateMembership(m.orgId, m.userId, () => ({ ...m, status: "active" }));
  for (const su of s2.serviceUsers) await store2.updateServiceUser(su.id, () => su);
  const quota = { max: 1e9, now: s2.now, inactivityMs: s2.inactivityMs };
  for (const { record } of s2.tokens) {
    const r = await store2.insertToken(record, quota);
    if (!r.ok) throw new Error(`insertToken refused ${record.id}: ${r.reason}`);
  }
  for (const m of s2.memberships) if (m.status !== "active") await store2.updateMembership(m.orgId, m.userId, () => m);
  for (const sh of s2.shares) await store2.putShare(sh);
  for (const r of s2.rules) await store2.putRule(r);
  return store2;
}
function keywardOn(store2, s2) {
  return createKeyward({ store: store2, actions: s2.actions, clock: () => s2.now, inactivityMs: s2.inactivityMs });
}

// bench/scenario.ts
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = a + 1831565813 >>> 0;
    let t = a;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
var DAY = 864e5;
var ITEM_TYPES = ["template", "inspection", "asset"];
var VERBS = [
  ["view", "view"],
  ["list", "view"],
  ["export", "view"],
  ["print", "view"],
  ["comment", "view"],
  ["download", "view"],
  ["subscribe", "view"],
  ["edit", "edit"],
  ["rename", "edit"],
  ["tag", "edit"],
  ["assign", "edit"],
  ["schedule", "edit"],
  ["attach", "edit"],
  ["approve", "edit"],
  ["archive", "delete"],
  ["delete", "delete"],
  ["restore", "delete"],
  ["transfer", "delete"]
];
var ORG_ACTIONS = ["users.manage", "groups.manage", "sites.manage", "billing.view", "reports.run", "integrations.manage"];
var STATUSES = ["draft", "active", "archived"];
function benchActions() {
  const actions = {};
  for (const type of ITEM_TYPES) {
    for (const [verb, access] of VERBS) actions[`${type}s.${verb}`] = { permission: `${type}s:${verb}`, access, item: type };
  }
  for (const a of ORG_ACTIONS) actions[a] = { permission: a.replace(".", ":") };
  return actions;
}
function generateScenario(size, seed = 1801812343) {
  const rnd = prng(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const sample = (xs, n) => {
    const out = /* @__PURE__ */ new Set();
    while (out.size < Math.min(n, xs.length)) out.add(pick(xs));
    return [...out];
  };
  const now = Date.UTC(2026, 0, 15);
  const inactivityMs = 30 * DAY;
  const actions = benchActions();
  const permissions = Object.values(actions).map((a) => a.permission);
  const orgs = [
    { id: "org_a", name: "Acme", ssoOnly: false },
    { id: "org_b", name: "Borealis", ssoOnly: false }
  ];
  const other = (orgId) => orgId === "org_a" ? "org_b" : "org_a";
  const groups = [];
  const sites = [];
  const permissionSets = [];
  const groupsOf = /* @__PURE__ */ new Map();
  const sitesOf = /* @__PURE__ */ new Map();
  const leavesOf = /* @__PURE__ */ new Map();
  const setsOf = /* @__PURE__ */ new Map();
  for (const org of orgs) {
    const gs = [];
    for (let i = 0; i < 250; i++) {
      const g = { id: `${org.id}_g${i}`, orgId: org.id, name: `Group ${i}` };
      groups.push(g);
      gs.push(g.id);
    }
    groupsOf.set(org.id, gs);
    const all = [];
    const leaves = [];
    for (let r = 0; r < 4; r++) {
      const region = { id: `${org.id}_r${r}`, orgId: org.id, name: `Region ${r}`, parentId: null, path: [`${org.id}_r${r}`] };
      sites.push(region);
      all.push(region.id);
      for (let a = 0; a < 4; a++) {
        const areaId = `${region.id}a${a}`;
        sites.push({ id: areaId, orgId: org.id, name: `Area ${r}.${a}`, parentId: region.id, path: [region.id, areaId] });
        all.push(areaId);
        for (let s2 = 0; s2 < 5; s2++) {
          const siteId = `${areaId}s${s2}`;
          sites.push({ id: siteId, orgId: org.id, name: `Site ${r}.${a}.${s2}`, parentId: areaId, path: [region.id, areaId, siteId] });
          all.push(siteId);
          leaves.push(siteId);
        }
      }
    }
    sitesOf.set(org.id, all);
    leavesOf.set(org.id, leaves);
    const sets = [];
    for (let i = 0; i < 10; i++) {
      const set = { id: `${org.id}_ps${i}`, orgId: org.id, name: `Set ${i}`, permissions: sample(permissions, int(5, 30)) };
      permissionSets.push(set);
      sets.push(set.id);
    }
    setsOf.set(org.id, sets);
  }
  const sitePath = new Map(sites.map((s2) => [s2.id, s2.path]));
  const users = [];
  const memberships = [];
  const member = (orgId, userId) => ({
    orgId,
    userId,
    permissionSetId: pick(setsOf.get(orgId)),
    groupIds: sample(groupsOf.get(orgId), int(1, 5)),
    siteIds: sample(sitesOf.get(orgId), int(1, 3)),
    status: "active",
    seat: true,
    epoch: `ep_${orgId}_${userId}`
  });
  for (let u = 0; u < size.users; u++) {
    const user = { id: `u${u}`, name: `User ${u}` };
    users.push(user);
    const home = rnd() < 0.6 ? "org_a" : "org_b";
    memberships.push(member(home, user.id));
    if (rnd() < 0.1) memberships.push(member(other(home), user.id));
  }
  const serviceUsers2 = [];
  for (let i = 0; i < 50; i++) {
    const orgId = i % 2 === 0 ? "org_a" : "org_b";
    serviceUsers2.push({ id: `su${i}`, orgId, name: `Service ${i}`, permissionSetId: pick(setsOf.get(orgId)), status: "active", createdBy: null, createdAt: now - 90 * DAY });
  }
  const items = [];
  const shares = [];
  const reach = /* @__PURE__ */ new Map();
  const addReach = (key, share) => {
    const list2 = reach.get(key);
    if (list2 === void 0) reach.set(key, [share]);
    else list2.push(share);
  };
  const levelOf = () => {
    const x = rnd();
    return x < 0.5 ? "view" : x < 0.85 ? "edit" : "delete";
  };
  const usersOf = /* @__PURE__ */ new Map([["org_a", []], ["org_b", []]]);
  for (const m of memberships) usersOf.get(m.orgId).push(m.userId);
  const suOf = (orgId) => serviceUsers2.filter((s2) => s2.orgId === orgId).map((s2) => s2.id);
  const suByOrg = new Map(orgs.map((o) => [o.id, suOf(o.id)]));
  let shareSeq = 0;
  for (let i = 0; i < size.items; i++) {
    const orgId = rnd() < 0.5 ? "org_a" : "org_b";
    const type = pick(ITEM_TYPES);
    const item = { orgId, type, id: `${type.slice(0, 3)}${i}`, attributes: { siteId: pick(leavesOf.get(orgId)), status: pick(STATUSES) } };
    items.push(item);
    const n = int(0, 6);
    for (let k = 0; k < n; k++) {
      const x = rnd();
      let grantee2;
      if (x < 0.32) grantee2 = { kind: "user", userId: pick(usersOf.get(orgId)) };
      else if (x < 0.62) grantee2 = { kind: "group", groupId: pick(groupsOf.get(orgId)) };
      else if (x < 0.85) grantee2 = { kind: "site", siteId: pick(sitesOf.get(orgId)) };
      else if (x < 0.89) grantee2 = { kind: "organization", orgId, includeServiceUsers: rnd() < 0.3 };
      else if (x < 0.97) grantee2 = { kind: "service_user", serviceUserId: pick(suByOrg.get(orgId)) };
      else if (x < 0.985) grantee2 = { kind: "organization", orgId: other(orgId), includeServiceUsers: rnd() < 0.3 };
      else grantee2 = { kind: "user", userId: pick(usersOf.get(other(orgId))) };
      const share = { id: `sh${shareSeq++}`, item: { orgId, type, id: item.id }, grantee: grantee2, level: levelOf(), createdAt: now - 10 * DAY };
      shares.push(share);
      switch (grantee2.kind) {
        case "user":
          addReach(`u:${grantee2.userId}`, share);
          break;
        case "service_user":
          addReach(`s:${grantee2.serviceUserId}`, share);
          break;
        case "group":
          addReach(`g:${grantee2.groupId}`, share);
          break;
        case "site":
          for (const p of sitePath.get(grantee2.siteId)) addReach(`site:${p}`, share);
          break;
        case "organization":
          addReach(`o:${grantee2.orgId}`, share);
          break;
      }
    }
  }
  const rules = [];
  for (const org of orgs) {
    for (let i = 0; i < 10; i++) {
      const x = rnd();
      const grantee2 = x < 0.4 ? { kind: "group", groupId: pick(groupsOf.get(org.id)) } : x < 0.7 ? { kind: "site", siteId: pick(sitesOf.get(org.id)) } : x < 0.85 ? { kind: "service_user", serviceUserId: pick(suByOrg.get(org.id)) } : { kind: "organization", orgId: org.id, includeServiceUsers: rnd() < 0.5 };
      const conditions = i % 3 === 0 ? { status: [pick(STATUSES)] } : { siteId: sample(leavesOf.get(org.id), int(1, 3)) };
      rules.push({ id: `rule_${org.id}_${i}`, orgId: org.id, itemType: pick(ITEM_TYPES), conditions, grantee: grantee2, level: rnd() < 0.7 ? "view" : "edit", createdAt: now - 30 * DAY });
    }
  }
  const hash2 = tokenHasher();
  const tokens = [];
  let tokenSeq = 0;
  const addToken = (kind, orgId, subjectId, epoch) => {
    const raw2 = generateToken(kind);
    const x = rnd();
    const record = {
      id: `tok${tokenSeq++}`,
      kind,
      orgId,
      subjectId,
      name: "bench",
      hash: hash2(raw2),
      hint: tokenHint(raw2),
      epoch,
      createdAt: now - int(1, 25) * DAY,
      createdBy: kind === "user" ? subjectId : null,
      lastUsedAt: x < 0.3 ? null : now - int(0, 20) * DAY,
      revokedAt: x > 0.99 ? now - DAY : null,
      deletedAt: null,
      expiredAt: null
    };
    if (kind === "user" && x > 0.98 && x <= 0.99) {
      record.createdAt = now - 60 * DAY;
      record.lastUsedAt = now - 40 * DAY;
    }
    tokens.push({ raw: raw2, record });
  };
  for (const m of memberships) addToken("user", m.orgId, m.userId, m.epoch);
  for (const su of serviceUsers2) addToken("service_user", su.orgId, su.id, null);
  for (const m of memberships) if (rnd() < 0.01) m.status = "deactivated";
  const setById = new Map(permissionSets.map((s2) => [s2.id, s2]));
  const memberOf = new Map(memberships.map((m) => [`${m.orgId}\0${m.userId}`, m]));
  const suById = new Map(serviceUsers2.map((s2) => [s2.id, s2]));
  const actionList = Object.entries(actions);
  const rank = { view: 1, edit: 2, delete: 3 };
  const queries = [];
  const itemByKey = new Map(items.map((it) => [`${it.orgId}\0${it.type}\0${it.id}`, it]));
  for (let q = 0; q < size.queries; q++) {
    const tokenIndex = rnd() < 0.95 ? int(0, tokens.length - serviceUsers2.length - 1) : tokens.length - serviceUsers2.length + int(0, serviceUsers2.length - 1);
    const { record } = tokens[tokenIndex];
    const x = rnd();
    if (x < 0.04) {
      const orgActions = actionList.filter(([, d]) => d.access === void 0);
      queries.push({ token: tokenIndex, action: pick(orgActions)[0], item: null });
      continue;
    }
    if (x < 0.7) {
      const keys = [];
      let perms = [];
      if (record.kind === "user") {
        const m = memberOf.get(`${record.orgId}\0${record.subjectId}`);
        perms = setById.get(m.permissionSetId).permissions;
        keys.push(`u:${record.subjectId}`, `o:${record.orgId}`, ...m.groupIds.map((g) => `g:${g}`), ...m.siteIds.map((s2) => `site:${s2}`));
      } else {
        perms = setById.get(suById.get(record.subjectId).permissionSetId).permissions;
        keys.push(`s:${record.subjectId}`, `o:${record.orgId}`);
      }
      const held = keys.map((k) => reach.get(k)).filter((l) => l !== void 0);
      if (held.length > 0) {
        const share = pick(pick(held));
        const item2 = itemByKey.get(`${share.item.orgId}\0${share.item.type}\0${share.item.id}`);
        const fitting = actionList.filter(([, d]) => d.item === item2.type && perms.includes(d.permission) && rank[d.access] <= rank[share.level]);
        const ofType2 = actionList.filter(([, d]) => d.item === item2.type);
        queries.push({ token: tokenIndex, action: pick(fitting.length > 0 ? fitting : ofType2)[0], item: item2 });
        continue;
      }
    }
    const item = pick(items);
    const ofType = actionList.filter(([, d]) => d.item === item.type);
    queries.push({ token: tokenIndex, action: pick(ofType)[0], item });
  }
  return { seed, now, inactivityMs, actions, orgs, users, memberships, permissionSets, groups, sites, serviceUsers: serviceUsers2, items, shares, rules, tokens, queries };
}

// bench/profile.ts
var s = generateScenario({ users: Number(process.env.BENCH_USERS ?? 2e3), items: Number(process.env.BENCH_ITEMS ?? 2e4), queries: 5e3 });
var store = await loadMemory(s);
var kw = keywardOn(store, s);
var hash = tokenHasher();
var raw = s.queries.map((q) => s.tokens[q.token].raw);
var inputs = await Promise.all(s.queries.map(async (q, i) => await store.loadDecision(hash(raw[i]), q.item)));
var which = process.env.BENCH_PROFILE ?? "decide";
if (process.env.BENCH_WARM === "1") for (let j = 0; j < s.queries.length; j++) await kw.authorize(raw[j], s.queries[j].action, s.queries[j].item);
var N = 2e6;
var t0 = performance.now();
var allowed = 0;
if (which === "decide") {
  for (let i = 0; i < N; i++) {
    const j = i % s.queries.length;
    const q = s.queries[j];
    if (decide(inputs[j], q.action, s.actions[q.action], q.item, s.now, { inactivityMs: s.inactivityMs }).allowed) allowed++;
  }
} else {
  for (let i = 0; i < N / 4; i++) {
    const j = i % s.queries.length;
    const q = s.queries[j];
    if ((await kw.authorize(raw[j], q.action, q.item)).allowed) allowed++;
  }
}
console.log(which, `${Math.round((which === "decide" ? N : N / 4) / (performance.now() - t0) * 1e3)}/s`, allowed);
