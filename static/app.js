// Dashboard behaviour that htmx does not cover: the CSRF header on htmx requests,
// swapping in only the dashboard's own answers, revealing and copying one-time
// secrets, copying .env blocks. No inline scripts exist anywhere (the CSP forbids
// them), so everything hangs off data- attributes through delegated listeners,
// which also covers content htmx swaps in later.
(function () {
  "use strict";

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (ev) {
    var t = csrfToken();
    if (t) {
      ev.detail.headers["X-CSRF-Token"] = t;
    }
    // A select whose request path depends on its value (the branch picker of the
    // enable form) carries the path with a {value} placeholder.
    var elt = ev.detail.elt;
    var tpl = elt && elt.getAttribute && elt.getAttribute("data-path-template");
    if (tpl) {
      ev.detail.path = tpl.replace("%7Bvalue%7D", encodeURIComponent(elt.value));
    }
  });

  // Only the dashboard's own answers are swapped into the page; it marks each
  // with a header (identity.ResponseMarker). An answer without it came from
  // whoever stands in front of the dashboard: the sign-in proxy's login page
  // once the proxy session has ended in another tab, or a redirect to the
  // identity provider. Pasted into a panel it would be a login page inside
  // the dashboard; reloading the whole page lets the proxy run its sign-in in
  // the window instead, and brings the person back here afterwards.
  var responseMarker = "X-Neon-Auth-Dashboard";

  function foreignAnswer(xhr) {
    if (!xhr || !xhr.getResponseHeader(responseMarker)) return true;
    return !!xhr.responseURL && new URL(xhr.responseURL, location.href).origin !== location.origin;
  }

  // Registered before the focus handling below, which then sees
  // shouldSwap false and leaves focus alone.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    if (!foreignAnswer(ev.detail.xhr)) return;
    ev.detail.shouldSwap = false;
    ev.preventDefault();
    location.reload();
  });

  // A redirect to another origin that does not allow this one (the identity
  // provider's sign-in) ends the request with a network error and no answer
  // at all. When a person asked for the request, reload for the same reason;
  // a poll that fails is left to try again.
  document.addEventListener("htmx:sendError", function (ev) {
    if (askedFor(ev.detail.elt)) location.reload();
  });

  // busyControls are what shows a request in flight: a form's submit buttons,
  // or the button or link that was clicked. The polled sync panel and the
  // search box are not controls and are left alone.
  function busyControls(elt) {
    if (!elt || !elt.matches) return [];
    if (elt.matches("form")) return Array.prototype.slice.call(elt.querySelectorAll('button[type="submit"]'));
    if (elt.matches('button, a, [role="button"]')) return [elt];
    return [];
  }

  // Pico draws a spinner on aria-busy controls; assistive technology reads
  // the same attribute.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    busyControls(ev.detail.elt).forEach(function (b) { b.setAttribute("aria-busy", "true"); });
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    busyControls(ev.detail.elt).forEach(function (b) { b.removeAttribute("aria-busy"); });
  });

  // Focus after a swap. Someone who submitted a form or followed a link is
  // taken to what came back, so a keyboard or screen reader user is not left
  // on a button that no longer exists: the first field marked invalid (its
  // aria-describedby reads the message), else an in-place error
  // (role="alert"), else what the template marks with data-focus-after-swap
  // (keys shown once, a sync check started). With none of those, focus
  // returns to the control that was replaced, or to the swapped region.
  // Swaps nobody asked for (polls, a table refreshing itself, search as you
  // type, a select reloading its neighbours) leave focus where it is.
  var focusOrder = ['[aria-invalid="true"]', '[role="alert"]', "[data-focus-after-swap]"];
  var pendingFocus = null;

  function askedFor(elt) {
    return !!(elt && elt.matches && elt.matches('form, button, a, [role="button"]'));
  }

  document.addEventListener("htmx:beforeSwap", function (ev) {
    var cfg = ev.detail.requestConfig;
    if (!ev.detail.shouldSwap || !askedFor(cfg && cfg.elt)) return;
    pendingFocus = { xhr: ev.detail.xhr, focused: document.activeElement, target: ev.detail.target, targetId: ev.detail.target.id, roots: [] };
  });

  // htmx settles attributes after the swap (the new field gets its
  // aria-invalid then), so focus moves once everything has settled.
  document.addEventListener("htmx:afterSettle", function (ev) {
    var p = pendingFocus;
    // Only the answer that was asked for (and its out-of-band parts) moves
    // focus: a panel loading by itself meanwhile settles with another xhr.
    if (!p || (ev.detail.xhr && ev.detail.xhr !== p.xhr)) return;
    if (!p.roots.length) queueMicrotask(function () { placeFocus(p); });
    p.roots.push(ev.target);
  });

  function placeFocus(p) {
    if (pendingFocus === p) pendingFocus = null;
    var roots = p.roots.filter(function (el) { return el.isConnected; });
    roots.sort(function (a, b) { return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1; });
    for (var i = 0; i < focusOrder.length; i++) {
      var found = firstMatch(roots, focusOrder[i]);
      if (found) return focusOn(found);
    }
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    var old = p.focused;
    var same = old && old.getAttribute && old.getAttribute("data-testid");
    var again = same && document.querySelector('[data-testid="' + CSS.escape(same) + '"]');
    if (again) return focusOn(again);
    var region = p.target.isConnected ? p.target : (p.targetId && document.getElementById(p.targetId));
    if (region) focusOn(region);
  }

  function firstMatch(roots, sel) {
    for (var i = 0; i < roots.length; i++) {
      if (roots[i].matches(sel)) return roots[i];
      var inside = roots[i].querySelector(sel);
      if (inside) return inside;
    }
    return null;
  }

  // focusOn makes a region that is not a control focusable by script only
  // (tabindex=-1 keeps it out of the Tab order) before focusing it.
  function focusOn(el) {
    if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus();
  }

  // copyText falls back to a hidden textarea where the async clipboard API is
  // missing (plain http on a non-loopback host).
  function copyText(text, button) {
    function done() {
      if (!button) return;
      var old = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", old);
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = old; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
      return;
    }
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "offscreen";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
    document.body.removeChild(ta);
  }

  // maskedText is an element's text as the server rendered it (secrets masked).
  function maskedText(el) {
    if (!el.hasAttribute("data-masked")) el.setAttribute("data-masked", el.textContent);
    return el.getAttribute("data-masked");
  }

  // sourceText reads what a copy button copies and a reveal shows: a secret's
  // data-secret; for a block quoting a secret (data-secret-ref), its text with
  // the mask replaced by that secret, which exists in the page only once.
  function sourceText(el) {
    if (!el) return "";
    if (el.hasAttribute("data-secret")) return el.getAttribute("data-secret");
    var ref = el.getAttribute("data-secret-ref");
    if (ref) {
      var secret = document.getElementById(ref);
      var mask = el.getAttribute("data-mask") || "";
      if (secret && mask) return maskedText(el).split(mask).join(secret.getAttribute("data-secret"));
    }
    return el.hasAttribute("data-masked") ? el.getAttribute("data-masked") : el.textContent;
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-reveal],[data-copy]");
    if (!btn) return;
    ev.preventDefault();
    if (btn.hasAttribute("data-reveal")) {
      var secret = document.getElementById(btn.getAttribute("data-reveal"));
      if (!secret) return;
      var shown = secret.getAttribute("data-shown") === "true";
      var masked = maskedText(secret);
      secret.textContent = shown ? masked : sourceText(secret);
      secret.setAttribute("data-shown", shown ? "false" : "true");
      btn.textContent = shown ? "Reveal" : "Hide";
      btn.setAttribute("aria-pressed", shown ? "false" : "true");
      return;
    }
    copyText(sourceText(document.getElementById(btn.getAttribute("data-copy"))), btn);
  });

  // ---- The fields of one provider only ----
  // A form whose provider select carries data-provider-switch shows the
  // fields marked data-provider-only="PROVIDER" for that provider alone:
  // for any other they are hidden and disabled, so they are not sent. The
  // server renders the same state for the provider it preselects and
  // ignores such fields for the others, so the form is right without script.
  function applyProvider(select) {
    var form = select.form;
    if (!form) return;
    form.querySelectorAll("[data-provider-only]").forEach(function (el) {
      var off = el.getAttribute("data-provider-only") !== select.value;
      el.hidden = off;
      el.querySelectorAll("input, select, textarea").forEach(function (f) { f.disabled = off; });
    });
  }

  function applyProviders(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("select[data-provider-switch]").forEach(applyProvider);
  }

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t && t.matches && t.matches("select[data-provider-switch]")) applyProvider(t);
  });
  // A browser that restores a form's choices (back, reload) restores the
  // select, not what depends on it; a swapped-in form gets the same pass.
  applyProviders(document);
  window.addEventListener("pageshow", function () { applyProviders(document); });
  document.addEventListener("htmx:afterSettle", function (ev) {
    var form = ev.target && ev.target.closest && ev.target.closest("form");
    applyProviders(form || ev.target);
  });
})();
