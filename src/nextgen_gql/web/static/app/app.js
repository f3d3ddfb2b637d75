// The reference single-page app: a person's view of NextGen CM/ECF accounts, through the
// public GraphQL API only. No build step and no dependencies. The operations it sends are
// schema/operations/*.graphql (bundled as operations.json, validated by the test suite).
// Signed in by the HttpOnly NextGenCSO cookie: this script never sees the token.
// Live updates: subscriptions over a WebSocket (graphql-transport-ws), signed in by the same
// cookie, sent by id; the clerk's queue and the account page reload as events come.
(function () {
  "use strict";

  var state = { ops: null, me: null, courts: [], restricted: false, live: { account: null, court: null } };
  var main = document.getElementById("main");
  var nav = document.getElementById("nav");
  var statusBox = document.getElementById("status");
  var liveBox = document.getElementById("live");
  var REDACTION = "All filers must redact: Social Security or taxpayer-identification numbers; " +
    "dates of birth; names of minor children; financial account numbers; and, in criminal cases, home addresses.";
  var ROLE_NAMES = { ATTORNEY: "Attorney", PRO_SE: "Pro se party", MEDIA: "Media", CREDITOR: "Creditor",
    FILING_AGENT: "Filing agent", TRUSTEE: "Trustee" };
  var PERMISSION_NAMES = { FILE_IN_ANY_CASE: "file in any case", FILE_IN_LISTED_CASES: "file in the listed cases",
    OPEN_NEW_CASES: "open new cases", FILE_CLAIMS: "file claims", RECEIVE_NOTICES: "receive notices" };
  var SCOPE_NAMES = { RECORD_USAGE: "record usage (recordUsage)", READ_ROSTER: "read the legacy roster",
    READ_REGISTRATIONS: "read the registrations", MANAGE_WEBHOOKS: "manage the webhook endpoints" };
  var EVENT_NAMES = { REGISTRATION_SUBMITTED: "registration submitted", REGISTRATION_WITHDRAWN: "registration withdrawn",
    REGISTRATION_DECIDED: "registration decided", ACCOUNT_LINKED: "legacy account linked",
    PRIVILEGE_GRANTED: "privilege granted", PRIVILEGE_CASES_CHANGED: "privilege's cases changed",
    PRIVILEGE_REVOKED: "privilege revoked", PING: "test (ping)" };
  var OUTCOME_NAMES = { PENDING: "pending", SUCCEEDED: "delivered", FAILED: "failed" };

  // ------------------------------------------------------------------ helpers

  // Build elements node by node: every text is text, never parsed as markup.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === false || value === null || value === undefined) return;
      if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
      else if (key === "text") el.textContent = value;
      else el.setAttribute(key, value === true ? "" : value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      [].concat(child).forEach(function (c) {
        el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
      });
    }
    return el;
  }

  function field(label, name, attrs) {
    var id = "f-" + name;
    return h("div", { class: "field" },
      h("label", { for: id, text: label }),
      h("input", Object.assign({ id: id, name: name, autocomplete: "off" }, attrs || {})));
  }

  function say(text, kind) {
    statusBox.textContent = text || "";
    statusBox.className = kind || "";
  }

  // A view that loaded its data after the person moved on (another link, signing out) must not
  // draw over the page they are on now: views that wait check this before they show.
  function stillOn(hash) { return (location.hash || "#/") === hash; }

  function show(title, children) {
    main.replaceChildren(h("h2", { text: title }), children);
    main.focus();
  }

  function GraphQLFailure(errors) {
    this.errors = errors;
    this.message = errors.map(function (e) { return e.message; }).join(" ");
  }

  async function gql(name, variables, court) {
    var response = await fetch(court ? "/courts/" + encodeURIComponent(court) + "/graphql" : "/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      // By id only: the service registers these operations as trusted documents at start.
      body: JSON.stringify({ documentId: state.ops[name].id, variables: variables || {}, operationName: name })
    });
    var body = await response.json();
    if (body.errors && body.errors.length) {
      // A session that used its three sign-ins without an app may only enrol (or sign out).
      if (body.errors.some(function (e) { return e.extensions && e.extensions.code === "MFA_ENROLLMENT_REQUIRED"; })) {
        state.restricted = true;
      }
      throw new GraphQLFailure(body.errors);
    }
    return body.data;
  }

  // Mutations answer expected failures as data: show them, and mark the field at fault.
  function refused(form, errors) {
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    errors.forEach(function (e) {
      var input = e.field && form.querySelector('[name="' + e.field + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    });
    say(errors.map(function (e) { return e.message + " (" + e.code + ")"; }).join(" "), "error");
  }

  function values(form) {
    var out = {};
    new FormData(form).forEach(function (value, key) { if (value !== "") out[key] = value; });
    form.querySelectorAll("input[type=checkbox]").forEach(function (box) { out[box.name] = box.checked; });
    return out;
  }

  function submitting(form, run) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      say("");
      try { await run(values(form)); }
      catch (err) { say(err.message || String(err), "error"); }
      finally { button.disabled = false; }
    });
    return form;
  }

  // Send a mutation; say what went wrong (with its code) or ``done``, then run ``after``.
  async function act(name, variables, court, done, after) {
    var key = name.charAt(0).toLowerCase() + name.slice(1);
    var result = (await gql(name, variables, court))[key];
    if (result.errors.length) {
      say(result.errors.map(function (e) { return e.message + " (" + e.code + ")"; }).join(" "), "error");
      return null;
    }
    if (after) await after(result);
    say(done, "ok");
    return result;
  }

  function button(text, onclick, attrs) {
    return h("button", Object.assign({ type: "button", text: text, onclick: onclick }, attrs || {}));
  }

  function table(headers, rows) {
    if (!rows.length) return h("p", { class: "muted", text: "None." });
    return h("table", {},
      h("thead", {}, h("tr", {}, headers.map(function (t) { return h("th", { scope: "col", text: t }); }))),
      h("tbody", {}, rows.map(function (row) {
        return h("tr", {}, row.map(function (cell) { return h("td", {}, cell); }));
      })));
  }

  function courtName(code) {
    var court = state.courts.filter(function (c) { return c.code === code; })[0];
    return court ? court.name + " (" + code + ")" : code;
  }

  function currentQuarter() {
    var now = new Date();
    return now.getUTCFullYear() + "Q" + (Math.floor(now.getUTCMonth() / 3) + 1);
  }

  function dollars(cents) { return "$" + (cents / 100).toFixed(2); }

  function day(iso) { return iso ? iso.slice(0, 10) : ""; }

  function roleOf(p) { return (ROLE_NAMES[p.role] || p.role) + (p.proHacVice ? ", pro hac vice" : ""); }

  // What a privilege lets its holder do, in words; the server decides (permissions), this only says it.
  function mayDo(p) {
    if (p.revokedAt) return "nothing: revoked";
    return p.permissions.map(function (x) { return PERMISSION_NAMES[x] || x; }).join(", ") || "nothing";
  }

  function casesOf(p) {
    if (p.cases.length) return p.cases.map(function (c) { return h("span", { class: "case", text: c }); });
    if (p.revokedAt) return "-";
    return p.permissions.indexOf("FILE_IN_LISTED_CASES") >= 0 ? "none yet: the court adds your case" : "any";
  }

  // ------------------------------------------------------------------ live updates

  var EVENT_TEXT = {
    REGISTRATION_DECIDED: "A court decided one of your registrations.",
    INVITATION_RECEIVED: "A firm invited you to join it.",
    MEMBERSHIP_ENDED: "Your firm membership ended.",
    LINKED_ON_YOUR_BEHALF: "Your firm linked a legacy account for you.",
    PRIVILEGE_GRANTED: "You were granted a filing privilege.",
    PRIVILEGE_REVOKED: "A court revoked one of your filing privileges.",
    SECURITY_CHANGED: "Your account's security changed."
  };

  // One WebSocket to an endpoint (graphql-transport-ws, signed in by the cookie), holding
  // subscriptions sent by id. It reconnects (1 s, doubling to 15 s) and resumes each
  // subscription after the last event it saw; with no cursor yet it reloads instead.
  function liveSocket(path, onSignedOut) {
    var self = { subs: {}, seq: 0, open: false, closed: false, delay: 1000, ws: null, connectedOnce: false };
    function send(message) { if (self.open) self.ws.send(JSON.stringify(message)); }
    function start(id) {
      var sub = self.subs[id];
      var variables = sub.cursor ? { after: sub.cursor } : {};
      send({ type: "subscribe", id: id,
        payload: { documentId: state.ops[sub.name].id, operationName: sub.name, variables: variables } });
    }
    function connect() {
      if (self.closed) return;
      var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path,
        "graphql-transport-ws");
      self.ws = ws;
      ws.addEventListener("open", function () { ws.send(JSON.stringify({ type: "connection_init" })); });
      ws.addEventListener("message", function (e) {
        var message = JSON.parse(e.data);
        var sub = self.subs[message.id];
        if (message.type === "connection_ack") {
          var again = self.connectedOnce;
          self.open = true;
          self.connectedOnce = true;
          self.delay = 1000;
          Object.keys(self.subs).forEach(function (id) {
            if (again && !self.subs[id].cursor) self.subs[id].onEvent(null);  // may have missed some
            start(id);
          });
        } else if (message.type === "ping") {
          ws.send(JSON.stringify({ type: "pong" }));
        } else if (message.type === "next" && sub) {
          var event = message.payload.data && message.payload.data[sub.field];
          if (event && event.cursor) sub.cursor = event.cursor;
          sub.onEvent(event || null);
        } else if (message.type === "error" && sub) {
          var expired = (message.payload || []).some(function (err) {
            return err.extensions && err.extensions.code === "INVALID_INPUT";
          });
          if (expired && sub.cursor) { sub.cursor = null; sub.onEvent(null); start(message.id); }
          else delete self.subs[message.id];
        } else if (message.type === "complete" && sub) {
          delete self.subs[message.id];
        }
      });
      ws.addEventListener("close", function (e) {
        self.open = false;
        if (self.closed) return;
        if (e.code === 4401 || e.code === 4403) { self.closed = true; onSignedOut(); return; }
        setTimeout(connect, self.delay);
        self.delay = Math.min(self.delay * 2, 15000);
      });
    }
    self.subscribe = function (name, field, onEvent) {
      var id = String(++self.seq);
      self.subs[id] = { name: name, field: field, onEvent: onEvent, cursor: null };
      if (self.open) start(id);
    };
    self.close = function () {
      self.closed = true;
      if (self.ws) self.ws.close(1000);
    };
    connect();
    return self;
  }

  function sessionEnded() {
    stopLive();
    liveBox.textContent = "";
    state.me = null;
    renderNav();
    say("Your session ended (signed out elsewhere, or the password was reset). Sign in again.", "error");
    location.hash = "#/signin";
  }

  // While signed in: the account's own events; they reload the account (and its page, if shown).
  function startLive() {
    if (state.live.account || !state.me) return;
    state.live.account = liveSocket("/graphql", sessionEnded);
    state.live.account.subscribe("MyEvents", "myEvents", async function (event) {
      await refresh();
      if (event) liveBox.textContent = "Live: " + (EVENT_TEXT[event.kind] || "Your account changed.");
      if (state.me && stillOn("#/")) accountView();
    });
  }

  // While a clerk's queue is shown: the court's registrations; each event reloads the queue.
  function followCourt(code) {
    if (state.live.court && state.live.court.code === code) return;
    unfollowCourt();
    var socket = liveSocket("/courts/" + encodeURIComponent(code) + "/graphql", sessionEnded);
    state.live.court = { code: code, socket: socket };
    socket.subscribe("ClerkQueueEvents", "registrationEvents", function (event) {
      if (event) liveBox.textContent = "Live: a registration was " + event.kind.toLowerCase() + ".";
      if (stillOn("#/clerk/" + code)) clerkView(code);
    });
  }

  function unfollowCourt() {
    if (state.live.court) { state.live.court.socket.close(); state.live.court = null; }
  }

  function stopLive() {
    unfollowCourt();
    if (state.live.account) { state.live.account.close(); state.live.account = null; }
  }

  // ------------------------------------------------------------------ views

  function renderNav() {
    var me = state.me;
    var links = me ? [["#/", "My account"]] : [["#/signin", "Sign in"]];
    if (me && state.restricted) links = [["#/security", "Add an authenticator app"]];
    else if (me) links.push(["#/security", "Security"], ["#/settings", "Password and email"], ["#/sessions", "My sessions"], ["#/apps", "Connected apps"]);
    if (me && state.restricted) {
      nav.replaceChildren(h("a", { href: "#/security", "aria-current": "page", text: links[0][1] }),
        h("button", { type: "button", class: "link", onclick: signOut, text: "Sign out" }));
      return;
    }
    if (me && me.isLegacy) links.push(["#/upgrade", "Upgrade"]);
    if (me && !me.isLegacy && !me.isShared) links.push(["#/link", "Link a CM/ECF account"], ["#/register", "E-file registration"]);
    if (me) (me.clerkOf || []).forEach(function (c) {
      links.push(["#/clerk/" + c.code, "Queue: " + c.code], ["#/privileges/" + c.code, "Privileges: " + c.code],
        ["#/keys/" + c.code, "Keys: " + c.code], ["#/webhooks/" + c.code, "Webhooks: " + c.code],
        ["#/move/" + c.code, "Move to NextGen: " + c.code]);
    });
    if (me && me.firm && me.firm.admins.some(function (a) { return a.id === me.id; })) links.push(["#/firm", "My firm"]);
    var items = links.map(function (l) {
      return h("a", { href: l[0], "aria-current": location.hash === l[0] ? "page" : null, text: l[1] });
    });
    if (me) items.push(h("button", { type: "button", class: "link", onclick: signOut, text: "Sign out" }));
    nav.replaceChildren.apply(nav, items);
  }

  async function refresh() {
    var data = await gql("Me");
    state.me = data.me;
    if (!state.me) state.restricted = false;
    else if (state.me.mfa && state.me.mfa.enabled) state.restricted = false;
    renderNav();
    if (state.me && !state.restricted) startLive(); else stopLive();
  }

  async function signOut() {
    stopLive();
    await gql("SignOut");
    state.me = null;
    state.restricted = false;
    say("Signed out.");
    location.hash = "#/signin";
  }

  function signInView() {
    var form = h("form", { novalidate: true },
      field("Username", "username", { required: true, autocomplete: "username" }),
      field("Password", "password", { type: "password", required: true, autocomplete: "current-password" }),
      field("Client code (if your firm requires one)", "clientCode", { maxlength: 32 }),
      h("div", { class: "field check" },
        h("input", { type: "checkbox", id: "f-redactionAcknowledged", name: "redactionAcknowledged" }),
        h("label", { for: "f-redactionAcknowledged", text: "I will redact, as the rules require. " + REDACTION })),
      h("button", { type: "submit", text: "Sign in" }));
    show("Sign in with your PACER account", submitting(form, async function (input) {
      var result = (await gql("SignIn", { input: input })).signIn;
      if (result.errors.length) return refused(form, result.errors);
      if (result.mfaChallenge) return secondFactorView(result.mfaChallenge);
      await signedIn(result.account.username);
    }));
  }

  async function signedIn(username) {
    state.restricted = false;
    await refresh();
    var mfa = state.me.mfa;
    if (mfa.required && !mfa.enabled && mfa.skipsLeft === 0) {
      state.restricted = true;
      renderNav();
      say("User update required: add an authenticator app before anything else.", "error");
      if (location.hash === "#/security") route();
      else location.hash = "#/security";
      return;
    }
    say("Signed in as " + username + "." + (mfa.required && !mfa.enabled
      ? " PACER requires an authenticator app of your account: add one (Security); you may skip this " +
        mfa.skipsLeft + " more time" + (mfa.skipsLeft === 1 ? "" : "s") + ", counting this one." : ""), "ok");
    location.hash = "#/";
  }

  // The second step of a sign-in: a code of an authenticator app, or a backup code.
  function secondFactorView(challenge) {
    var method = h("select", { id: "f-method", name: "method" },
      h("option", { value: "TOTP", text: "A code of my authenticator app" }),
      h("option", { value: "BACKUP_CODE", text: "One of my backup codes" }));
    var form = h("form", { novalidate: true },
      h("p", { text: "Your password is right. Enter the 6-digit code your authenticator app shows now, or one " +
        "of your backup codes. This step expires at " + challenge.expiresAt.slice(11, 16) + " UTC." }),
      h("div", { class: "field" }, h("label", { for: "f-method", text: "With" }), method),
      field("Code", "code", { required: true, autocomplete: "one-time-code", inputmode: "numeric" }),
      h("button", { type: "submit", text: "Verify" }));
    show("Confirm it is you", submitting(form, async function (input) {
      var result = (await gql("VerifySignIn", { input: { challenge: challenge.token, code: input.code, method: input.method } })).verifySignIn;
      if (result.errors.length) {
        if (result.errors[0].code === "MFA_CHALLENGE_EXPIRED") { say(result.errors[0].message, "error"); return signInView(); }
        return refused(form, result.errors);
      }
      await signedIn(result.account.username);
    }));
  }

  function accountView() {
    var me = state.me;
    var status = me.isShared ? "Shared account (research only: no linking or filing)"
      : me.isLegacy ? "Legacy account: upgrade it to link or file" : "Upgraded account";
    var privileges = me.privileges.map(function (p) {
      return [courtName(p.court.code), roleOf(p), mayDo(p), h("div", {}, casesOf(p)),
        p.source === "LINKED_LEGACY_ACCOUNT" ? "linked legacy account" : "registration",
        p.revokedAt ? "revoked on " + day(p.revokedAt) + (p.revokedReason ? ": " + p.revokedReason : "") : "live"];
    });
    var registrations = me.registrations.map(function (r) {
      return [r.court.code, ROLE_NAMES[r.role] || r.role, r.status.toLowerCase() + (r.reason ? ": " + r.reason : "")];
    });
    var invitations = (me.invitations || []).map(function (i) {
      var who = i.invitedBy ? i.invitedBy.firstName + " " + i.invitedBy.lastName : "the firm";
      return [i.firm.name + " (" + i.firm.accountNumber + ")", who, day(i.createdAt),
        h("div", { class: "decide" },
          button("Accept", function () {
            act("AcceptFirmInvitation", { id: i.id }, null, "You joined " + i.firm.name + ": your PACER fees are billed to it.",
              async function () { await refresh(); accountView(); });
          }, { "aria-label": "Accept the invitation of " + i.firm.name }),
          button("Decline", function () {
            act("DeclineFirmInvitation", { id: i.id }, null, "You declined the invitation of " + i.firm.name + ".",
              async function () { await refresh(); accountView(); });
          }, { class: "danger", "aria-label": "Decline the invitation of " + i.firm.name }))];
    });
    show("My account", h("div", {},
      invitations.length ? h("section", { id: "invitations", "aria-labelledby": "invitations-title" },
        h("h3", { id: "invitations-title", text: "Invitations to join a firm (" + invitations.length + ")" }),
        h("p", { class: "muted", text: "A firm pays its members' PACER fees and may require a client code at sign-in. " +
          "You may belong to one firm." }),
        table(["Firm", "Invited by", "Sent", "Answer"], invitations)) : null,
      h("dl", { class: "facts" },
        h("dt", { text: "Username" }), h("dd", { text: me.username }),
        h("dt", { text: "Name" }), h("dd", { text: me.firstName + " " + me.lastName }),
        h("dt", { text: "Account number" }), h("dd", { text: me.accountNumber }),
        h("dt", { text: "Email" }), h("dd", { id: "account-email", text: emailText(me) }),
        h("dt", { text: "Status" }), h("dd", { id: "account-status", text: status }),
        h("dt", { text: "Firm" }), h("dd", { text: me.firm ? me.firm.name + " (" + me.firm.accountNumber + ")" : "none" })),
      h("h3", { text: "Where I may file" }),
      h("div", { id: "privileges" },
        table(["Court", "Role", "What I may do", "Cases", "Granted through", "Status"], privileges)),
      h("h3", { text: "My e-file registrations" }),
      table(["Court", "Role", "Status"], registrations)));
  }

  function upgradeView() {
    var form = h("form", { novalidate: true },
      h("p", { text: "Upgrading is done once. A 6-character legacy username must be replaced, and so must a " +
        "password that does not meet today's rules (14 to 45 characters, lower and upper case, a special " +
        "character, no part of your name, username or email)." }),
      field("Email", "email", { type: "email", required: true, autocomplete: "email" }),
      field("New username (at least 8 characters)", "newUsername", { autocomplete: "username" }),
      field("New password", "newPassword", { type: "password", autocomplete: "new-password" }),
      h("button", { type: "submit", text: "Upgrade my account" }));
    show("Upgrade my PACER account", submitting(form, async function (input) {
      var result = (await gql("Upgrade", { input: input })).upgradePacerAccount;
      if (result.errors.length) return refused(form, result.errors);
      await refresh();
      say("Your account is upgraded. You may now link your legacy CM/ECF accounts.", "ok");
      location.hash = "#/";
    }));
  }

  function courtSelect(name, filter) {
    return h("div", { class: "field" },
      h("label", { for: "f-" + name, text: "Court" }),
      h("select", { id: "f-" + name, name: name, required: true },
        state.courts.filter(filter).map(function (c) { return h("option", { value: c.code, text: c.name + " (" + c.code + ")" }); })));
  }

  function linkView() {
    var confirm = h("input", { type: "checkbox", id: "f-confirm", name: "confirm" });
    var submit = h("button", { type: "submit", disabled: true, text: "Link for good" });
    confirm.addEventListener("change", function () { submit.disabled = !confirm.checked; });
    var form = h("form", { novalidate: true },
      courtSelect("court", function (c) { return c.isNextgen; }),
      field("Legacy CM/ECF login", "login", { required: true }),
      field("Legacy CM/ECF password", "password", { type: "password", required: true }),
      h("div", { class: "warning", role: "note" },
        h("strong", { text: "This cannot be undone. " }),
        "Once linked, the legacy account is bound to your PACER account for good, and its old credentials stop " +
        "working. If you are linking for someone else, be sure you know whose accounts you are linking."),
      h("div", { class: "field check" }, confirm,
        h("label", { for: "f-confirm", text: "I understand that linking can never be undone." })),
      submit);
    show("Link my filer account to my PACER account", submitting(form, async function (input) {
      var court = input.court;
      delete input.court;
      var result = (await gql("LinkCmecfAccount", { input: input }, court)).linkCmecfAccount;
      if (result.errors.length) return refused(form, result.errors);
      await refresh();
      say("Linked " + result.cmecfAccount.login + ": you may now file in " + courtName(court) + ".", "ok");
      location.hash = "#/";
    }));
  }

  function registerView() {
    var roleSelect = h("select", { id: "f-role", name: "role" });
    var courts = courtSelect("court", function (c) { return c.isNextgen; });
    function fillRoles() {
      var code = courts.querySelector("select").value;
      var court = state.courts.filter(function (c) { return c.code === code; })[0];
      roleSelect.replaceChildren.apply(roleSelect, (court ? court.acceptedRoles : []).map(function (r) {
        return h("option", { value: r, text: ROLE_NAMES[r] || r });
      }));
    }
    courts.querySelector("select").addEventListener("change", fillRoles);
    fillRoles();
    var form = h("form", { novalidate: true }, courts,
      h("div", { class: "field" }, h("label", { for: "f-role", text: "Role" }), roleSelect),
      h("div", { class: "field check" }, h("input", { type: "checkbox", id: "f-proHacVice", name: "proHacVice" }),
        h("label", { for: "f-proHacVice", text: "Pro hac vice (admitted for one case)" })),
      field("Case number (pro se and pro hac vice)", "caseNumber"),
      field("Bar number (attorneys)", "barNumber"),
      field("Bar state, two letters (attorneys)", "barState", { maxlength: 2 }),
      h("button", { type: "submit", text: "Send the registration" }));
    show("Ask a court for a filing privilege", submitting(form, async function (input) {
      var court = input.court;
      delete input.court;
      var result = (await gql("SubmitRegistration", { input: input }, court)).submitRegistration;
      if (result.errors.length) return refused(form, result.errors);
      await refresh();
      say("Sent to " + courtName(court) + ": the clerk will decide, and you will be mailed.", "ok");
      location.hash = "#/";
    }));
  }

  async function clerkView(code) {
    var data = await gql("ClerkQueue", {}, code);
    if (!stillOn("#/clerk/" + code)) return;
    var rows = data.registrations.edges.map(function (edge) {
      var r = edge.node;
      var reason = h("input", { "aria-label": "Reason for rejecting " + r.account.username, placeholder: "reason (to reject)" });
      var linkLogin = h("input", { "aria-label": "Legacy login to link for " + r.account.username, placeholder: "legacy login (optional)" });
      async function decide(approve) {
        var input = { id: r.id, approve: approve };
        if (!approve) input.reason = reason.value;
        if (approve && linkLogin.value) input.linkCmecfLogin = linkLogin.value;
        var result = (await gql("DecideRegistration", { input: input }, code)).decideRegistration;
        if (result.errors.length) return say(result.errors.map(function (e) { return e.message; }).join(" "), "error");
        say("Registration of " + r.account.username + " " + result.registration.status.toLowerCase() + ".", "ok");
        clerkView(code);
      }
      return [h("span", {}, r.account.firstName + " " + r.account.lastName + " (" + r.account.username + ")",
          r.account.email ? h("br") : null, r.account.email ? emailText(r.account) : null),
        ROLE_NAMES[r.role] || r.role,
        [r.caseNumber, r.barNumber && "bar " + r.barNumber + " " + (r.barState || "")].filter(Boolean).join(", ") || "-",
        h("div", { class: "decide" }, linkLogin,
          h("button", { type: "button", onclick: function () { decide(true); }, text: "Approve" }),
          reason,
          h("button", { type: "button", class: "danger", onclick: function () { decide(false); }, text: "Reject" }))];
    });
    show("Registration queue: " + courtName(code), h("div", {},
      h("p", { text: data.registrations.totalCount + " pending." }),
      table(["Applicant", "Role", "Case / bar", "Decision"], rows)));
  }

  // A court's clerk: the privileges needing a case (they file nowhere until one is added), then
  // every live privilege with its cases, each revocable with a reason.
  async function privilegesView(code) {
    var needing = (await gql("ClerkPrivileges", { needsCases: true }, code)).privileges;
    var live = (await gql("ClerkPrivileges", { revoked: false }, code)).privileges;
    if (!stillOn("#/privileges/" + code)) return;
    async function act(name, input, done) {
      var key = name.charAt(0).toLowerCase() + name.slice(1);
      var result = (await gql(name, { input: input }, code))[key];
      if (result.errors.length) {
        return say(result.errors.map(function (e) { return e.message + " (" + e.code + ")"; }).join(" "), "error");
      }
      await privilegesView(code);
      say(done, "ok");
    }
    function holder(p) { return p.account.firstName + " " + p.account.lastName + " (" + p.account.username + ")"; }
    function addCase(p) {
      var input = h("input", { "aria-label": "Case number for " + p.account.username, placeholder: "case number" });
      return h("div", { class: "decide" }, input, h("button", { type: "button", text: "Add case", onclick: function () {
        act("AddPrivilegeCase", { privilegeId: p.id, caseNumber: input.value }, "Case added for " + p.account.username + ".");
      } }));
    }
    var needRows = needing.edges.map(function (e) {
      var p = e.node;
      return [holder(p), roleOf(p), day(p.grantedAt), addCase(p)];
    });
    var liveRows = live.edges.map(function (e) {
      var p = e.node;
      var restricted = p.permissions.indexOf("FILE_IN_LISTED_CASES") >= 0;
      var cases = p.cases.map(function (c) {
        return h("span", { class: "case" }, c + " ", h("button", { type: "button", class: "link-button",
          "aria-label": "Remove case " + c + " of " + p.account.username, text: "remove", onclick: function () {
            act("RemovePrivilegeCase", { privilegeId: p.id, caseNumber: c }, "Case " + c + " removed for " + p.account.username + ".");
          } }));
      });
      var reason = h("input", { "aria-label": "Reason for revoking " + p.account.username, placeholder: "reason (required)" });
      return [holder(p), roleOf(p), mayDo(p),
        h("div", {}, restricted ? (cases.length ? cases : "none yet") : "any", restricted ? addCase(p) : null),
        h("div", { class: "decide" }, reason, h("button", { type: "button", class: "danger", text: "Revoke", onclick: function () {
          act("RevokeFilingPrivilege", { id: p.id, reason: reason.value }, "Privilege of " + p.account.username + " revoked.");
        } }))];
    });
    show("Filing privileges: " + courtName(code), h("div", {},
      h("section", { id: "needing-cases", "aria-labelledby": "needing-title" },
        h("h3", { id: "needing-title", text: "Needing a case (" + needing.totalCount + ")" }),
        h("p", { class: "muted", text: "Case-restricted privileges (pro se, pro hac vice) with no case yet: " +
          "they file nowhere until you add one." }),
        table(["Holder", "Role", "Granted", "Add a case"], needRows)),
      h("section", { id: "live-privileges", "aria-labelledby": "live-title" },
        h("h3", { id: "live-title", text: "Live privileges (" + live.totalCount + ")" }),
        table(["Holder", "Role", "May", "Cases", "Revoke (the holder is told the reason)"], liveRows))));
  }

  // A firm's administrators: members (make one an administrator, step down), invitations (send,
  // cancel), the client-code rule, and the quarter's statement.
  async function firmView() {
    var me = (await gql("FirmMembers")).me;
    if (!stillOn("#/firm")) return;
    var firm = me.firm;
    var admins = firm.admins.map(function (a) { return a.id; });
    async function again() { await refresh(); await firmView(); }
    var memberRows = firm.members.edges.map(function (e) {
      var m = e.node;
      var isAdmin = admins.indexOf(m.id) >= 0;
      var action = null;
      if (m.id === me.id) {
        action = button("Step down", function () {
          act("SetFirmAdmin", { accountId: m.id, admin: false }, null, "You are no longer an administrator of " + firm.name + ".",
            async function () { await refresh(); location.hash = "#/"; });
        }, { class: "danger" });
      } else if (!isAdmin) {
        action = button("Make administrator", function () {
          act("SetFirmAdmin", { accountId: m.id, admin: true }, null, m.username + " is now an administrator.", again);
        }, { "aria-label": "Make " + m.username + " an administrator" });
      }
      return [m.username, m.firstName + " " + m.lastName, m.email, isAdmin ? "Administrator" : "Member", action || "-"];
    });
    var invitationRows = firm.invitations.map(function (i) {
      return [i.account.firstName + " " + i.account.lastName + " (" + i.account.username + ")",
        i.invitedBy ? i.invitedBy.username : "-", day(i.createdAt),
        button("Cancel", function () {
          act("CancelFirmInvitation", { id: i.id }, null, "The invitation of " + i.account.username + " is cancelled.", again);
        }, { class: "danger", "aria-label": "Cancel the invitation of " + i.account.username })];
    });
    var inviteForm = submitting(h("form", { class: "inline", id: "invite", novalidate: true },
      field("Account number", "accountNumber", { required: true, inputmode: "numeric", maxlength: 7 }),
      field("Last name", "lastName", { required: true }),
      h("button", { type: "submit", text: "Invite" })), async function (input) {
      var result = (await gql("InviteFirmMember", { input: input })).inviteFirmMember;
      if (result.errors.length) return refused(inviteForm, result.errors);
      await firmView();
      say("Invitation sent to " + result.invitation.account.username + ": they answer it on their account.", "ok");
    });
    var codeBox = h("input", { type: "checkbox", id: "f-clientCodeRequired", name: "clientCodeRequired",
      checked: firm.clientCodeRequired });
    var codeForm = submitting(h("form", { class: "inline", id: "client-code", novalidate: true },
      h("div", { class: "field check" }, codeBox,
        h("label", { for: "f-clientCodeRequired", text: "Every member signs in with a client code (at most 32 " +
          "characters, no spaces or commas); charges carry it." })),
      h("button", { type: "submit", text: "Save the rule" })), async function () {
      await act("SetClientCodeRequired", { required: codeBox.checked }, null,
        codeBox.checked ? "Members now sign in with a client code." : "Members no longer need a client code.", again);
    });
    var quarterForm = h("form", { class: "inline" },
      field("Quarter", "quarter", { value: currentQuarter(), pattern: "\\d{4}Q[1-4]" }),
      h("button", { type: "submit", text: "Show the statement" }));
    var statementBox = h("div", { id: "statement" });
    submitting(quarterForm, async function (input) {
      var s = (await gql("FirmStatement", { quarter: input.quarter })).me.firm.statement;
      statementBox.replaceChildren(
        h("p", { text: s.quarter + ": " + (s.kind === "INVOICE" ? "invoice, " + dollars(s.amountDueCents) + " due"
          : "statement of account, nothing due") + (s.waived ? " (charges of " + dollars(s.chargesCents) + " are waived)" : "") }),
        table(["Account", "Client code", "Court", "Kind", "Pages", "Amount"], s.charges.map(function (c) {
          return [c.account.username, c.clientCode || "-", c.court.code, c.kind, String(c.pages), dollars(c.amountCents)];
        })));
    });
    show(firm.name + " (" + firm.accountNumber + ")", h("div", {},
      h("section", { id: "members", "aria-labelledby": "members-title" },
        h("h3", { id: "members-title", text: "Members (" + firm.members.totalCount + ")" }),
        h("p", { class: "muted", text: "The firm keeps at least one administrator while it has members: make " +
          "another member an administrator before you step down or leave." }),
        table(["Username", "Name", "Email", "Role", ""], memberRows)),
      h("section", { id: "firm-invitations", "aria-labelledby": "invitations-title" },
        h("h3", { id: "invitations-title", text: "Invite a member" }),
        h("p", { class: "muted", text: "An existing PACER account, by its account number and last name; the " +
          "account holder accepts on their own account." }),
        inviteForm,
        h("h3", { text: "Pending invitations (" + firm.invitations.length + ")" }),
        table(["Invited", "By", "Sent", ""], invitationRows)),
      h("section", { id: "client-codes", "aria-labelledby": "codes-title" },
        h("h3", { id: "codes-title", text: "Client codes" }), codeForm),
      h("h3", { text: "Quarterly statement" }), quarterForm, statementBox));
  }

  // A court's clerks: the court's service keys, for its own systems. A new key's secret is shown
  // once, here, and never again.
  async function keysView(code, made) {
    var keys = (await gql("CourtKeys", {}, code)).courtServiceKeys;
    var rows = keys.map(function (k) {
      return [k.name, h("code", { text: k.prefix }), k.scopes.map(function (s) { return SCOPE_NAMES[s] || s; }).join(", "),
        k.createdBy ? k.createdBy.username : "command line", k.lastUsedAt ? k.lastUsedAt.slice(0, 16).replace("T", " ") : "never",
        k.revokedAt ? "revoked on " + day(k.revokedAt) : button("Revoke", function () {
          act("RevokeCourtServiceKey", { id: k.id }, code, "The key " + k.prefix + " is revoked: it stops working at once.",
            function () { return keysView(code); });
        }, { class: "danger", "aria-label": "Revoke the key " + k.name })];
    });
    var scopeBoxes = Object.keys(SCOPE_NAMES).map(function (scope) {
      return h("div", { class: "field check" },
        h("input", { type: "checkbox", id: "f-scope-" + scope, name: "scope-" + scope }),
        h("label", { for: "f-scope-" + scope, text: SCOPE_NAMES[scope] + " (" + scope + ")" }));
    });
    var form = submitting(h("form", { id: "new-key", novalidate: true },
      field("Name (which system uses it)", "name", { required: true, maxlength: 100 }),
      h("fieldset", {}, h("legend", { text: "Scopes" }), scopeBoxes),
      h("button", { type: "submit", text: "Make the key" })), async function (input) {
      var scopes = Object.keys(SCOPE_NAMES).filter(function (scope) { return input["scope-" + scope]; });
      var result = (await gql("CreateCourtServiceKey", { input: { name: input.name || "", scopes: scopes } }, code))
        .createCourtServiceKey;
      if (result.errors.length) return refused(form, result.errors);
      await keysView(code, result);
      say("The key " + result.key.prefix + " is made: copy its secret now.", "ok");
    });
    var secretBox = made ? h("div", { class: "warning", role: "note", id: "new-key-secret" },
      h("strong", { text: "The secret of " + made.key.name + ", shown this once: " }),
      h("code", { text: made.secret }),
      h("p", { text: "Put it in the system's secret store now: the service keeps only its hash and cannot show it " +
        "again. The system sends it as Authorization: Bearer <secret> to /courts/" + code + "/graphql only." })) : null;
    show("Service keys: " + courtName(code), h("div", {},
      h("p", { class: "muted", text: "The court's own systems (its CM/ECF reporting usage, feeds) act with a key, not a " +
        "clerk's password: at this court only, within its scopes." }),
      secretBox,
      table(["Name", "Prefix", "Scopes", "Made by", "Last used", "State"], rows),
      h("h3", { text: "Make a key" }), form));
  }

  // A court's clerks: the court's webhook endpoints, where its systems hear of its events. A new
  // or rotated secret is shown once, here, and never again.
  async function webhooksView(code, made) {
    var endpoints = (await gql("CourtWebhooks", {}, code)).webhookEndpoints;
    var again = function () { return webhooksView(code); };
    var sections = endpoints.map(function (e) {
      var deliveries = e.deliveries.edges.map(function (edge) {
        var d = edge.node;
        var last = d.attempts.length ? d.attempts[d.attempts.length - 1] : null;
        return [when(d.createdAt), EVENT_NAMES[d.eventType] || d.eventType, OUTCOME_NAMES[d.outcome] || d.outcome,
          String(d.attempts.length) + (last ? " (last: " + (last.statusCode || "no answer") + ", " + last.durationMs +
            " ms" + (last.error ? ": " + last.error : "") + ")" : ""),
          d.nextAttemptAt ? when(d.nextAttemptAt) : "-",
          button("Send again", function () {
            act("RedeliverWebhook", { id: d.id }, code, "The delivery is sent again now, with the same id.", again);
          }, { "aria-label": "Send the delivery of " + when(d.createdAt) + " again" })];
      });
      var enabled = e.status === "ENABLED";
      return h("section", { class: "webhook", "aria-label": "Endpoint " + e.description },
        h("h3", { text: e.description }),
        h("p", {}, h("code", { text: e.url })),
        h("p", { text: (enabled ? "Enabled" : "Disabled") + (e.disabledReason ? ": " + e.disabledReason : "") +
          ". Receives: " + e.eventTypes.map(function (t) { return EVENT_NAMES[t] || t; }).join(", ") + ". Made " +
          when(e.createdAt) + (e.secretRotatedAt ? ", secret rotated " + when(e.secretRotatedAt) : "") + "." }),
        h("div", { class: "actions" },
          button("Send a test", function () {
            act("SendTestWebhook", { id: e.id }, code, "A test delivery (ping) is on its way.", again);
          }),
          button(enabled ? "Disable" : "Enable", function () {
            act("UpdateWebhookEndpoint", { input: { id: e.id, enabled: !enabled } }, code,
              enabled ? "Disabled: it receives nothing, its pending deliveries ended." : "Enabled again.", again);
          }),
          button("Rotate the secret", async function () {
            var result = await act("RotateWebhookSecret", { id: e.id }, code,
              "A new secret: copy it now. The old one signs beside it for 24 hours.");
            if (result) await webhooksView(code, result);
          }),
          button("Delete", function () {
            if (!window.confirm("Delete the endpoint " + e.url + " and its delivery log?")) return;
            act("DeleteWebhookEndpoint", { id: e.id }, code, "The endpoint is deleted.", again);
          }, { class: "danger" })),
        h("h4", { text: "Recent deliveries (" + e.deliveries.totalCount + " in all)" }),
        table(["Written", "Event", "Outcome", "Attempts", "Next attempt", ""], deliveries));
    });
    var eventBoxes = Object.keys(EVENT_NAMES).filter(function (t) { return t !== "PING"; }).map(function (t) {
      return h("div", { class: "field check" },
        h("input", { type: "checkbox", id: "f-event-" + t, name: "event-" + t }),
        h("label", { for: "f-event-" + t, text: EVENT_NAMES[t] + " (" + t + ")" }));
    });
    var form = submitting(h("form", { id: "new-webhook", novalidate: true },
      field("URL (https://)", "url", { required: true, maxlength: 2000, type: "url" }),
      field("Description (which system receives it)", "description", { required: true, maxlength: 200 }),
      h("fieldset", {}, h("legend", { text: "Events" }), eventBoxes),
      h("button", { type: "submit", text: "Make the endpoint" })), async function (input) {
      var types = Object.keys(EVENT_NAMES).filter(function (t) { return input["event-" + t]; });
      var result = (await gql("CreateWebhookEndpoint", { input: { url: input.url || "", description:
        input.description || "", eventTypes: types } }, code)).createWebhookEndpoint;
      if (result.errors.length) return refused(form, result.errors);
      await webhooksView(code, result);
      say("The endpoint is made: copy its secret now.", "ok");
    });
    var secretBox = made ? h("div", { class: "warning", role: "note", id: "new-webhook-secret" },
      h("strong", { text: "The signing secret of " + made.endpoint.description + ", shown this once: " }),
      h("code", { text: made.secret }),
      h("p", { text: "Put it in the receiving system's secret store now: the service cannot show it again. The " +
        "receiver checks each delivery's webhook-signature with it (Standard Webhooks)." })) : null;
    show("Webhooks: " + courtName(code), h("div", {},
      h("p", { class: "muted", text: "The court's systems hear of its events at these URLs, in signed deliveries " +
        "retried for about a day. A failing endpoint is disabled after 5 days, and the clerks are mailed." }),
      secretBox,
      sections.length ? h("div", {}, sections) : h("p", { text: "No webhook endpoint yet." }),
      h("h3", { text: "Make an endpoint" }), form));
  }

  function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "never"; }

  // ------------------------------------------------------------------ the move to NextGen

  var JOB_STATES = { QUEUED: "waiting for a worker", RUNNING: "sending", DONE: "done", FAILED: "failed" };

  // Weeks from the Monday of the court's NextGen date to this week (the API keeps at most 520).
  function weeksSince(date) {
    if (!date) return 26;
    var start = new Date(date + "T00:00:00Z");
    start.setUTCDate(start.getUTCDate() - ((start.getUTCDay() + 6) % 7));
    var weeks = Math.floor((Date.now() - start.getTime()) / (7 * 86400000)) + 1;
    return Math.max(1, Math.min(520, weeks));
  }

  function percent(part, whole) { return whole ? Math.round(100 * part / whole) + "%" : "-"; }

  // One line per role (colour and dash, so it reads without colour too), in the order of byRole.
  var ROLE_STYLES = [["#7a3e00", [10, 4]], ["#6a1b9a", [2, 3]], ["#00695c", [8, 3, 2, 3]], ["#b8860b", [4, 4]],
    ["#455a64", [12, 6]], ["#ad1457", [1, 2]]];

  function weekOf(u, v) { return v == null ? "-" : new Date(v * 1000).toISOString().slice(0, 10); }

  function plot(box, width, height, series, data) {
    if (typeof uPlot === "undefined") {
      box.appendChild(h("p", { class: "muted", text: "No chart: the chart library did not load." }));
      return;
    }
    var chart = new uPlot({ width: width, height: height, scales: { x: { time: true } },
      series: [{ label: "Week of", value: weekOf }].concat(series),
      axes: [{}, { label: "Accounts", size: 60 }] }, data, box);
    box.insertBefore(chart.root, box.firstChild);
  }

  // Linked accounts over time, by role: each role's running total of links (today's total of
  // the role, less its links of the later weeks of the window), and the running total in all.
  // The data-* attributes hold the series drawn (the browser test reads them).
  function linkingChart(progress) {
    var weeks = progress.weekly, roles = progress.byRole;
    var since = weeks.length ? weeks[0].weekStart : "-";
    var xs = weeks.map(function (w) { return Date.parse(w.weekStart + "T00:00:00Z") / 1000; });
    function running(now, links) {  // links: that series' links of each week of the window
      var n = now - links.reduce(function (a, b) { return a + b; }, 0);
      return links.map(function (k) { n += k; return n; });
    }
    var all = running(progress.linked, weeks.map(function (w) { return w.linked; }));
    var byRole = roles.map(function (r, i) {
      return running(r.linked, weeks.map(function (w) { return w.byRole[i].linked; }));
    });
    var figures = roles.map(function (r) { return (ROLE_NAMES[r.role] || r.role) + " " + r.linked; }).join(", ");
    var attrs = { id: "linking-chart", "data-weeks": String(weeks.length), "data-linked": String(progress.linked),
      "data-roles": roles.map(function (r) { return r.role; }).join(" "), "data-series-all": all.join(","),
      "aria-label": "Chart: legacy accounts linked, running totals week by week since " + since + ": in all " +
        progress.linked + " now; by role: " + figures + "." };
    roles.forEach(function (r, i) { attrs["data-series-" + r.role.toLowerCase()] = byRole[i].join(","); });
    var box = h("figure", attrs, h("figcaption", { class: "muted", text: "Running totals of links, week by week since " +
      since + " (weeks start on Monday, UTC), ending at today's: in all " + progress.linked + "; " + figures + "." }));
    if (!weeks.length) { box.appendChild(h("p", { class: "muted", text: "No chart: no weeks yet." })); return box; }
    var series = [{ label: "Linked, in all", stroke: "#004f9e", width: 3, fill: "rgba(0, 79, 158, 0.08)" }].concat(
      roles.map(function (r, i) {
        var style = ROLE_STYLES[i % ROLE_STYLES.length];
        return { label: ROLE_NAMES[r.role] || r.role, stroke: style[0], width: 2, dash: style[1] };
      }));
    plot(box, Math.min(900, Math.max(320, main.clientWidth - 10)), 320, series, [xs, all].concat(byRole));
    return box;
  }

  // Registrations approved and reminders sent over the same weeks, running totals: a small chart
  // of its own, so that the links' chart keeps its scale.
  function activityChart(progress) {
    var weeks = progress.weekly, a = 0, r = 0, approved = [], reminded = [];
    weeks.forEach(function (w) { a += w.registrationsApproved; r += w.remindersSent; approved.push(a); reminded.push(r); });
    var since = weeks.length ? weeks[0].weekStart : "-";
    var box = h("figure", { id: "activity-chart", "data-approved": String(a), "data-reminded": String(r),
      "aria-label": "Chart: since " + since + ", registrations approved (" + a + ") and linking reminders sent (" + r +
        "), running totals week by week" },
      h("figcaption", { class: "muted", text: "Since " + since + ": " + a + " registrations approved, " + r +
        " linking reminders sent." }));
    if (!weeks.length) return box;
    plot(box, Math.min(900, Math.max(320, main.clientWidth - 10)), 180, [
      { label: "Registrations approved", stroke: "#155724", width: 2 },
      { label: "Reminders sent", stroke: "#a4000f", width: 2, dash: [6, 4] }
    ], [weeks.map(function (w) { return Date.parse(w.weekStart + "T00:00:00Z") / 1000; }), approved, reminded]);
    return box;
  }

  function jobLine(job) {
    if (!job) return h("p", { class: "muted", text: "No reminder has been sent from this court yet." });
    var ended = job.state === "DONE" || job.state === "FAILED";
    return h("div", { class: "job" },
      h("p", {},
        h("strong", { text: "Reminder job: " + (JOB_STATES[job.state] || job.state) + ". " }),
        h("span", { id: "job-sent", text: job.sent + " of " + job.total + " sent" }),
        " (started " + when(job.startedAt) + (job.startedBy ? " by " + job.startedBy.username : "") +
          (ended ? ", ended " + when(job.finishedAt) : "") + ")"),
      h("progress", { max: String(Math.max(job.total, 1)), value: String(job.total ? job.sent : 1),
        "aria-label": "Reminders sent: " + job.sent + " of " + job.total }));
  }

  // Follow a job until it ends, while its page is shown.
  function followJob(code, jobBox, hash) {
    setTimeout(async function () {
      if (!stillOn(hash)) return;
      var job;
      try { job = (await gql("ReminderJobProgress", {}, code)).court.reminderJob; }
      catch (err) { return say(err.message || String(err), "error"); }
      if (!stillOn(hash)) return;
      jobBox.replaceChildren(jobLine(job));
      if (job && (job.state === "QUEUED" || job.state === "RUNNING")) followJob(code, jobBox, hash);
      else if (job) say("The reminder job ended: " + job.sent + " of " + job.total + " reminders sent.",
        job.state === "DONE" ? "ok" : "error");
    }, 1000);
  }

  // A court's clerks: how its legacy filers are moving to NextGen, reminders to those who have
  // not (counted first, then confirmed, then followed), and the list of them as CSV.
  async function moveView(code) {
    var hash = "#/move/" + code;
    var known = state.courts.filter(function (c) { return c.code === code; })[0];
    var court = (await gql("MoveToNextgen", { weeks: weeksSince(known && known.nextgenSince) }, code)).court;
    if (!stillOn(hash)) return;
    var p = court.linkingProgress;
    if (!p) {
      return show("Move to NextGen: " + courtName(code),
        h("p", { text: "Only the court's clerks see how its filers move to NextGen." }));
    }
    var totals = h("ul", { class: "totals", id: "linking-totals" },
      [["Legacy accounts", p.legacyAccounts, "legacy"], ["Linked", p.linked, "linked"], ["Not linked yet", p.unlinked, "unlinked"],
        ["Not linked, no email", p.unlinkedWithoutEmail, "no-email"]].map(function (t) {
        return h("li", { id: "total-" + t[2] }, h("strong", { text: String(t[1]) }), t[0]);
      }));
    var byRole = table(["Role", "Legacy accounts", "Linked", "Not linked", "Linked share"], p.byRole.map(function (r) {
      return [ROLE_NAMES[r.role] || r.role, String(r.legacyAccounts), String(r.linked), String(r.legacyAccounts - r.linked),
        percent(r.linked, r.legacyAccounts)];
    }));
    var jobBox = h("div", { id: "reminder-job", "aria-live": "polite" }, jobLine(court.reminderJob));
    var confirmBox = h("div", { id: "reminder-confirm" });
    var roleBoxes = court.acceptedRoles.map(function (role) {
      return h("div", { class: "field check" },
        h("input", { type: "checkbox", id: "f-remind-" + role, name: "remind-" + role, checked: true }),
        h("label", { for: "f-remind-" + role, text: ROLE_NAMES[role] || role }));
    });
    function chosen(input) { return court.acceptedRoles.filter(function (role) { return input["remind-" + role]; }); }
    function running() {
      jobBox.replaceChildren(h("div", { class: "warning", role: "alert", id: "job-running" },
        h("strong", { text: "A reminder job is already running for this court (REMINDER_JOB_RUNNING). " }),
        "One job at a time: its progress is below; send again once it has ended."), h("div", {}));
      followJob(code, jobBox.lastChild, hash);
    }
    var form = submitting(h("form", { id: "reminders", novalidate: true },
      h("fieldset", {}, h("legend", { text: "Remind the filers of these roles" }), roleBoxes),
      h("button", { type: "submit", text: "Count who would be mailed" })), async function (input) {
      var roles = chosen(input);
      confirmBox.replaceChildren();
      var count = (await gql("SendLinkingReminders", { input: { roles: roles, dryRun: true } }, code)).sendLinkingReminders;
      if (count.errors.length) return refused(form, count.errors);
      var words = count.recipients === 1 ? "1 filer would be mailed" : count.recipients + " filers would be mailed";
      var parts = [h("p", { id: "dry-run" }, h("strong", { text: words + "." }),
        " " + count.skipped + " skipped (no email, or reminded in the last 7 days). Nothing was sent.")];
      if (count.recipients > 0) {
        parts.push(h("p", { text: "Each gets one mail naming this court, their legacy login and the two steps " +
          "(upgrade, then link), with the court's help desk. Send them?" }));
        parts.push(h("div", { class: "decide" },
          button("Send " + count.recipients + " reminders", async function (event) {
            event.target.disabled = true;
            try {
              var sent = (await gql("SendLinkingReminders", { input: { roles: roles, dryRun: false } }, code)).sendLinkingReminders;
              confirmBox.replaceChildren();
              if (sent.errors.some(function (e) { return e.code === "REMINDER_JOB_RUNNING"; })) return running();
              if (sent.errors.length) return refused(form, sent.errors);
              say("Reminders to " + sent.recipients + " filers are being sent.", "ok");
              jobBox.replaceChildren(jobLine(sent.job));
              followJob(code, jobBox, hash);
            } catch (err) { say(err.message || String(err), "error"); }
          }, { id: "send-reminders" }),
          button("Cancel", function () { confirmBox.replaceChildren(); say("Nothing was sent."); }, { class: "danger" })));
      }
      confirmBox.replaceChildren(h("div", { class: "confirm", role: "region", "aria-label": "Confirm the reminders" }, parts));
    });
    var csv = "/courts/" + encodeURIComponent(code) + "/exports/unlinked.csv";
    show("Move to NextGen: " + courtName(code), h("div", {},
      h("p", { class: "muted", text: "Every legacy CM/ECF filer of this court must upgrade their PACER account and link it " +
        "before filing again. NextGen since " + (court.nextgenSince || "-") + "." }),
      totals,
      h("h3", { text: "By role" }), byRole,
      h("h3", { text: "Linked accounts over time" }), linkingChart(p),
      h("h3", { text: "Registrations approved and reminders sent" }), activityChart(p),
      h("h3", { text: "Remind the filers who have not linked" }),
      h("p", { class: "muted", text: "Mails every unlinked legacy account of the chosen roles that has an email and was not " +
        "reminded in the last 7 days. You see the count first." }),
      form, confirmBox, jobBox,
      h("h3", { text: "The filers who have not linked" }),
      h("p", {}, h("a", { href: csv, id: "unlinked-csv", class: "button", download: "unlinked-" + code + ".csv",
        text: "Download the list (CSV, " + p.unlinked + " accounts)" }),
        " login, name, email, role, cases and when last reminded.")));
    if (court.reminderJob && (court.reminderJob.state === "QUEUED" || court.reminderJob.state === "RUNNING")) {
      followJob(code, jobBox, hash);
    }
  }


  // Backup codes are shown once: listed, and offered as a text file to keep.
  function backupCodesBox(codes) {
    var text = "PACER backup codes for " + state.me.username + " (each works once)\n\n" + codes.join("\n") + "\n";
    var url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    return h("section", { id: "backup-codes", class: "warning", "aria-labelledby": "backup-title" },
      h("h3", { id: "backup-title", text: "Your backup codes: shown this once" }),
      h("p", { text: "Each code signs you in once if you lose your phone. Keep them somewhere safe; " +
        "they will not be shown again." }),
      h("ol", { class: "codes" }, codes.map(function (c) { return h("li", {}, h("code", { text: c })); })),
      h("a", { href: url, download: "pacer-backup-codes.txt", class: "button", text: "Download the codes" }));
  }

  function codeFields(prefix) {
    return [h("div", { class: "field" }, h("label", { for: "f-" + prefix + "method", text: "With" }),
      h("select", { id: "f-" + prefix + "method", name: "method" },
        h("option", { value: "TOTP", text: "A code of one of my apps" }),
        h("option", { value: "BACKUP_CODE", text: "A backup code" }))),
      h("div", { class: "field" }, h("label", { for: "f-" + prefix + "code", text: "Current code" }),
        h("input", { id: "f-" + prefix + "code", name: "code", required: true, autocomplete: "one-time-code" }))];
  }

  // Multi-factor authentication: the apps, adding one (QR code, mailed security code, first code),
  // removing one, and new backup codes.
  function securityView(shownCodes) {
    var mfa = state.me.mfa;
    var parts = [];
    if (state.restricted) {
      parts.push(h("div", { class: "warning", role: "alert" }, h("strong", { text: "User update required. " }),
        "PACER requires multi-factor authentication of your account, and you have used your three sign-ins " +
        "without it. Add an authenticator app to go on."));
    }
    parts.push(h("dl", { class: "facts" },
      h("dt", { text: "Multi-factor authentication" }), h("dd", { id: "mfa-status", text: mfa.enabled ? "on" : "off" }),
      h("dt", { text: "Required of this account" }), h("dd", { text: mfa.required ? "yes (filers and court staff)" : "no: you may turn it on" }),
      h("dt", { text: "Backup codes left" }), h("dd", { text: String(mfa.backupCodesLeft) })));
    if (shownCodes) parts.push(backupCodesBox(shownCodes));
    parts.push(h("h3", { text: "Authenticator apps (" + mfa.authenticators.length + " of 5)" }));
    parts.push(table(["Name", "Added", "Last used", "Remove (needs a current code)"], mfa.authenticators.map(function (a) {
      var form = h("form", { class: "decide", novalidate: true }, codeFields("rm-" + a.id + "-"),
        h("button", { type: "submit", class: "danger", text: "Remove " + a.name }));
      submitting(form, async function (input) {
        var result = (await gql("RemoveAuthenticator", { input: { id: a.id, code: input.code, method: input.method } })).removeAuthenticator;
        if (result.errors.length) return refused(form, result.errors);
        await refresh();
        securityView();
        say("Removed " + a.name + ".", "ok");
      });
      return [a.name, when(a.createdAt), when(a.lastUsedAt), form];
    })));
    if (mfa.authenticators.length < 5) parts.push(enrolForm());
    if (mfa.enabled && !state.restricted) {
      var regen = h("form", { novalidate: true, id: "regenerate" }, codeFields("regen-"),
        h("button", { type: "submit", text: "Get new backup codes" }));
      submitting(regen, async function (input) {
        var result = (await gql("RegenerateBackupCodes", { input: input })).regenerateBackupCodes;
        if (result.errors.length) return refused(regen, result.errors);
        await refresh();
        securityView(result.codes);
        say("New backup codes: the old ones no longer work.", "ok");
      });
      parts.push(h("h3", { text: "Backup codes" }),
        h("p", { class: "muted", text: "New codes replace all the old ones." }), regen);
    }
    show("Security", h("div", {}, parts));
  }

  function enrolForm() {
    var box = h("section", { id: "enrol", "aria-labelledby": "enrol-title" },
      h("h3", { id: "enrol-title", text: "Add an authenticator app" }));
    var start = h("form", { class: "inline", novalidate: true },
      field("Name of the app or device", "name", { required: true, maxlength: 64, placeholder: "Work phone" }),
      h("button", { type: "submit", text: "Add an app" }));
    submitting(start, async function (input) {
      var result = (await gql("StartAuthenticatorEnrollment", { input: { name: input.name } })).startAuthenticatorEnrollment;
      if (result.errors.length) return refused(start, result.errors);
      var e = result.enrollment;
      var confirmForm = h("form", { novalidate: true },
        field("Security code (mailed to " + (state.me.email || "your email") + ")", "securityCode", { required: true, autocomplete: "off" }),
        field("The code the app shows now", "totpCode", { required: true, autocomplete: "one-time-code", inputmode: "numeric" }),
        h("button", { type: "submit", text: "Confirm the app" }));
      submitting(confirmForm, async function (codes) {
        var done = (await gql("ConfirmAuthenticatorEnrollment", { input: { enrollmentId: e.id,
          securityCode: codes.securityCode, totpCode: codes.totpCode } })).confirmAuthenticatorEnrollment;
        if (done.errors.length) return refused(confirmForm, done.errors);
        state.restricted = false;
        await refresh();
        securityView(done.backupCodes);
        say("Added " + done.authenticator.name + ": from now on you sign in with its code.", "ok");
      });
      box.replaceChildren(h("h3", { id: "enrol-title", text: "Add an authenticator app" }),
        h("ol", {},
          h("li", { text: "Scan this QR code with your authenticator app (or type the key below)." }),
          h("li", { text: "Type the security code we mailed you, and the 6-digit code the app shows, before " + when(e.expiresAt) + "." })),
        h("img", { id: "qr-code", alt: "QR code for your authenticator app", width: 168, height: 168,
          src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(e.qrCodeSvg) }),
        h("p", {}, "Key: ", h("code", { id: "totp-secret", text: e.secret })),
        confirmForm);
      say("A security code was mailed to you.", "ok");
    });
    box.appendChild(start);
    return box;
  }

  // An address held unverified says so: it receives no mail until confirmed (verifyEmail).
  function emailText(account) {
    if (!account.email) return "none on file";
    return account.email + (account.emailVerified ? "" : " (not verified)");
  }

  function settingsView() {
    var password = h("form", { novalidate: true, id: "change-password" },
      field("Current password", "currentPassword", { type: "password", required: true, autocomplete: "current-password" }),
      field("New password (14 to 45 characters, lower and upper case, a special character, no part of your name)",
        "newPassword", { type: "password", required: true, autocomplete: "new-password" }),
      h("button", { type: "submit", text: "Change my password" }));
    submitting(password, async function (input) {
      var result = (await gql("ChangePassword", { input: input })).changePassword;
      if (result.errors.length) return refused(password, result.errors);
      password.reset();
      say("Your password is changed; your other sessions were ended.", "ok");
    });
    var email = h("form", { novalidate: true, id: "change-email" },
      field("New email", "newEmail", { type: "email", required: true, autocomplete: "email" }),
      field("Password", "password", { type: "password", required: true, autocomplete: "current-password" }),
      h("button", { type: "submit", text: "Send a token to the new address" }));
    var confirmEmail = h("form", { novalidate: true, id: "confirm-email" },
      field("Token from the message sent to the new address", "token", { required: true }),
      h("button", { type: "submit", text: "Confirm the new email" }));
    submitting(email, async function (input) {
      var result = (await gql("RequestEmailChange", { input: input })).requestEmailChange;
      if (result.errors.length) return refused(email, result.errors);
      say("A message was sent to " + input.newEmail + "; your current address was told.", "ok");
    });
    submitting(confirmEmail, async function (input) {
      var result = (await gql("ConfirmEmailChange", { input: input })).confirmEmailChange;
      if (result.errors.length) return refused(confirmEmail, result.errors);
      await refresh();
      settingsView();
      say("Your email is now " + result.account.email + ".", "ok");
    });
    var verify = null;
    if (state.me.email && !state.me.emailVerified) {
      var verifyForm = h("form", { novalidate: true, id: "verify-email" },
        field("Token from the message sent to " + state.me.email, "token", { required: true }),
        h("button", { type: "submit", text: "Verify my email" }));
      submitting(verifyForm, async function (input) {
        var result = (await gql("VerifyEmail", { input: input })).verifyEmail;
        if (result.errors.length) return refused(verifyForm, result.errors);
        await refresh();
        settingsView();
        say("Your email " + result.account.email + " is verified.", "ok");
      });
      verify = h("section", { "aria-labelledby": "verify-title" },
        h("h3", { id: "verify-title", text: "Verify my email" }),
        h("p", { class: "muted", text: "Until you confirm it, your address receives no mail from PACER but this token." }),
        verifyForm,
        button("Send a new token", async function () {
          var result = (await gql("ResendEmailVerification")).resendEmailVerification;
          if (result.errors.length) return say(result.errors.map(function (e) { return e.message; }).join(" "), "error");
          say("A new token was sent to " + state.me.email + "; the last one no longer works.", "ok");
        }));
    }
    show("Password and email", h("div", {},
      h("h3", { text: "Change my password" }), password,
      verify,
      h("h3", { text: "Change my email" }),
      h("p", {}, "Now: ", h("strong", { id: "current-email", text: emailText(state.me) })),
      email, confirmEmail));
  }

  async function sessionsView() {
    var sessions = (await gql("MySessions")).me.sessions;
    var rows = sessions.map(function (s) {
      var end = h("button", { type: "button", class: "danger", text: s.current ? "Sign out" : "End",
        "aria-label": "End the session from " + (s.address || "an unknown address") + " of " + when(s.createdAt),
        onclick: async function () {
          var result = (await gql("RevokeSession", { id: s.id })).revokeSession;
          if (result.errors.length) return say(result.errors[0].message, "error");
          if (s.current) { state.me = null; location.hash = "#/signin"; return say("Signed out.", "ok"); }
          await sessionsView();
          say("That session was ended: its sign-in no longer works.", "ok");
        } });
      return [when(s.createdAt) + (s.current ? " (this one)" : ""), when(s.lastUsedAt), s.address || "-", s.userAgent || "-", end];
    });
    var others = h("button", { type: "button", id: "sign-out-others", text: "Sign out everywhere else", onclick: async function () {
      var result = (await gql("SignOutOtherSessions")).signOutOtherSessions;
      if (result.errors.length) return say(result.errors[0].message, "error");
      await sessionsView();
      say("Every other session was ended.", "ok");
    } });
    show("My sessions", h("div", {},
      h("p", { class: "muted", text: "Where your account is signed in now. End any you do not recognise, and change your password." }),
      table(["Signed in", "Last used", "Address", "Browser", ""], rows), others));
  }

  var SCOPE_WORDS = {
    openid: "know who you are", profile: "see your name and username", email: "see your email address",
    pacer: "see your PACER account number and type", cmecf: "see your filing privilege at its court",
    api: "act as you at its court", "api.read": "read what your account can read"
  };

  async function appsView() {
    var grants = (await gql("MyAppGrants")).me.appGrants;
    var rows = grants.map(function (g) {
      var end = h("button", { type: "button", class: "danger", text: "Disconnect",
        "aria-label": "Disconnect " + g.client.name,
        onclick: async function () {
          var result = (await gql("RevokeAppGrant", { id: g.id })).revokeAppGrant;
          if (result.errors.length) return say(result.errors[0].message, "error");
          await appsView();
          say(g.client.name + " is disconnected: it can no longer act in your name.", "ok");
        } });
      var who = g.client.firstParty && g.client.court ? g.client.court.name + "'s own system" : "an app for every court";
      var may = g.scopes.map(function (s) { return SCOPE_WORDS[s] || s; }).join("; ");
      return [g.client.name + " (" + who + ")", may, when(g.grantedAt), when(g.lastUsedAt), end];
    });
    show("Connected apps", h("div", {},
      h("p", { class: "muted", text: "Systems you signed in to with this account, and what each may do. Disconnect any you no longer use." }),
      grants.length ? table(["App", "May", "Connected", "Last used", ""], rows) : h("p", { text: "No app is connected." })));
  }

  async function route() {
    var hash = location.hash || "#/";
    try {
      if (!state.me && hash !== "#/signin") { location.hash = "#/signin"; return; }
      if (state.me && state.restricted && hash !== "#/security") { location.hash = "#/security"; return; }
      renderNav();
      if (hash.indexOf("#/clerk/") === 0) followCourt(hash.slice(8));
      else unfollowCourt();
      if (hash === "#/signin") return signInView();
      if (hash === "#/security") return securityView();
      if (hash === "#/settings") return settingsView();
      if (hash === "#/sessions") return await sessionsView();
      if (hash === "#/apps") return await appsView();
      if (hash === "#/upgrade") return upgradeView();
      if (hash === "#/link") return linkView();
      if (hash === "#/register") return registerView();
      if (hash === "#/firm") return await firmView();
      if (hash.indexOf("#/clerk/") === 0) return await clerkView(hash.slice(8));
      if (hash.indexOf("#/privileges/") === 0) return await privilegesView(hash.slice(13));
      if (hash.indexOf("#/keys/") === 0) return await keysView(hash.slice(7));
      if (hash.indexOf("#/webhooks/") === 0) return await webhooksView(hash.slice(11));
      if (hash.indexOf("#/move/") === 0) return await moveView(hash.slice(7));
      return accountView();
    } catch (err) {
      say(err.message || String(err), "error");
    }
  }

  async function start() {
    state.ops = await (await fetch("/static/app/operations.json", { credentials: "same-origin" })).json();
    try {
      state.courts = (await gql("Courts")).courts;
    } catch (err) {
      if (!state.restricted) throw err;  // a session restricted to enrolment reads no courts
    }
    await refresh();
    window.addEventListener("hashchange", route);
    await route();
  }

  start().catch(function (err) { say("The service could not be reached: " + (err.message || err), "error"); });
})();
