/* Quick capture on the phone: queue entries offline, sync them when the network returns.
 *
 * Every saved entry goes into IndexedDB first, with a UUID made here, and is
 * then POSTed to /capture/sync one by one. The server answers a UUID it has
 * seen with the first result, so a retry after a lost response never makes a
 * second person or touchpoint. Without this script the form posts normally.
 *
 * The vCard / MeCard reader mirrors tandem/capture/vcard.py (the reference).
 */
(function () {
  "use strict";

  var form = document.getElementById("quick-form");
  if (!form || !window.indexedDB || !window.fetch || !window.Promise) return;

  var SYNC_URL = form.dataset.syncUrl;
  var PERSON = ["first_name", "last_name", "email", "phone", "company", "title",
    "street", "postcode", "city", "country"];
  var PLACE = ["campaign", "location", "place"];
  var LEAD = ["interest", "note", "sold_on_spot", "own_network"];
  var PLACE_KEY = "tandem.quick.place";
  var DB_NAME = "tandem-quick-capture";
  var STORE = "entries";

  var $ = function (id) { return document.getElementById(id); };
  var queueCard = $("queue-card");
  var queueList = $("queue");
  var summary = $("queue-summary");
  var netStatus = $("net-status");
  var scanText = form.elements.scan_text;
  var scanResult = $("scan-result");
  var editing = null; // the UUID of a failed entry being corrected
  var saveStatus = $("save-status");
  var savedToday = $("saved-today");
  var savedTodayEmpty = $("saved-today-empty");

  // --- storage (IndexedDB) ------------------------------------------------------------

  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore(STORE, { keyPath: "uuid" });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function allEntries() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).sort(function (a, b) { return a.created_at < b.created_at ? 1 : -1; });
    });
  }
  function putEntry(entry) { return withStore("readwrite", function (s) { s.put(entry); }); }
  function deleteEntry(uuid) { return withStore("readwrite", function (s) { s["delete"](uuid); }); }

  // --- small helpers ---------------------------------------------------------------------

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = form.elements.csrfmiddlewaretoken;
    return input ? input.value : "";
  }

  function field(name) { return form.elements[name]; }

  function value(name) {
    var el = field(name);
    if (!el) return "";
    if (el.type === "checkbox") return el.checked;
    if (typeof RadioNodeList !== "undefined" && el instanceof RadioNodeList) return el.value || "";
    return (el.value || "").trim();
  }

  function setValue(name, v) {
    var el = field(name);
    if (!el) return;
    if (el.type === "checkbox") { el.checked = !!v; return; }
    el.value = v == null ? "" : v;
  }

  function label(name) {
    var el = field(name);
    var lab = el && el.id ? form.querySelector('label[for="' + el.id + '"]') : null;
    return lab ? lab.textContent.trim() : name;
  }

  function showErrors(errors) {
    form.querySelectorAll(".field").forEach(function (div) {
      var list = div.querySelector(".errorlist");
      var msgs = errors[div.dataset.field] || [];
      div.classList.toggle("has-error", msgs.length > 0);
      if (!list) return;
      list.textContent = "";
      msgs.forEach(function (m) { var li = document.createElement("li"); li.textContent = m; list.appendChild(li); });
      list.hidden = msgs.length === 0;
    });
  }

  // --- vCard / MeCard --------------------------------------------------------------------

  var LIMITS = { first_name: 100, last_name: 100, email: 254, phone: 50, company: 200, title: 150,
    street: 255, city: 100, region: 100, postcode: 20, country: 2, note: 2000 };
  var COUNTRIES = { "united states": "US", "united states of america": "US", "usa": "US", "u.s.a.": "US",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "germany": "DE",
    "deutschland": "DE", "france": "FR", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT",
    "netherlands": "NL", "the netherlands": "NL", "nederland": "NL", "belgium": "BE", "austria": "AT",
    "österreich": "AT", "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "sweden": "SE",
    "norway": "NO", "denmark": "DK", "finland": "FI", "ireland": "IE", "poland": "PL", "portugal": "PT",
    "canada": "CA", "mexico": "MX", "brazil": "BR", "australia": "AU", "new zealand": "NZ",
    "japan": "JP", "china": "CN", "india": "IN" };

  function unescapeValue(v) {
    var out = "";
    for (var i = 0; i < v.length; i++) {
      var ch = v[i];
      if (ch === "\\" && i + 1 < v.length) {
        var n = v[i + 1];
        out += (n === "n" || n === "N") ? "\n" : n;
        i++;
      } else {
        out += ch;
      }
    }
    return out;
  }

  function splitEscaped(v, sep) {
    var parts = [], cur = "";
    for (var i = 0; i < v.length; i++) {
      var ch = v[i];
      if (ch === "\\" && i + 1 < v.length) { cur += v.substr(i, 2); i++; continue; }
      if (ch === sep) { parts.push(cur); cur = ""; } else { cur += ch; }
    }
    parts.push(cur);
    return parts;
  }

  function components(v, sep) {
    return splitEscaped(v, sep || ";").map(function (p) { return unescapeValue(p).trim(); });
  }

  function splitUnquoted(text, sep, limit) {
    var parts = [], cur = "", quoted = false;
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (ch === '"') { quoted = !quoted; cur += ch; } else if (ch === sep && !quoted && limit !== 0) {
        parts.push(cur); cur = ""; limit -= 1;
      } else { cur += ch; }
    }
    parts.push(cur);
    return parts;
  }

  function decodeQuotedPrintable(v, charset) {
    var bytes = [];
    for (var i = 0; i < v.length; i++) {
      if (v[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(v.substr(i + 1, 2))) {
        bytes.push(parseInt(v.substr(i + 1, 2), 16)); i += 2;
      } else {
        bytes.push(v.charCodeAt(i) & 0xff);
      }
    }
    try { return new TextDecoder(charset || "utf-8").decode(new Uint8Array(bytes)); } catch (e) {
      return new TextDecoder("utf-8").decode(new Uint8Array(bytes));
    }
  }

  function unfold(text) {
    text = text.replace(/\r\n/g, "\n").replace(/\r/g, "\n").replace(/\n[ \t]/g, "");
    var lines = [];
    text.split("\n").forEach(function (line) {
      var last = lines[lines.length - 1];
      if (last && /=$/.test(last) && last.toUpperCase().indexOf("QUOTED-PRINTABLE") >= 0) {
        lines[lines.length - 1] = last.slice(0, -1) + line;
      } else {
        lines.push(line);
      }
    });
    return lines.filter(function (l) { return l.trim(); });
  }

  function parseLine(line) {
    var hv = splitUnquoted(line, ":", 1);
    if (hv.length !== 2) return null;
    var pieces = splitUnquoted(hv[0], ";", -1);
    var prop = { name: pieces[0].split(".").pop().trim().toUpperCase(), params: {}, value: hv[1] };
    pieces.slice(1).forEach(function (piece) {
      var eq = piece.indexOf("=");
      if (eq < 0) { (prop.params[""] = prop.params[""] || []).push(piece.trim()); return; }
      var key = piece.slice(0, eq).trim().toUpperCase();
      splitUnquoted(piece.slice(eq + 1), ",", -1).forEach(function (one) {
        (prop.params[key] = prop.params[key] || []).push(one.trim().replace(/^"|"$/g, ""));
      });
    });
    var enc = (prop.params.ENCODING || []).concat(prop.params[""] || []).map(function (e) { return e.toUpperCase(); });
    if (enc.indexOf("QUOTED-PRINTABLE") >= 0) {
      prop.value = decodeQuotedPrintable(prop.value, (prop.params.CHARSET || ["utf-8"])[0]);
    }
    return prop;
  }

  function types(prop) {
    var found = [];
    (prop.params.TYPE || []).forEach(function (v) { v.split(",").forEach(function (t) { found.push(t.toLowerCase()); }); });
    (prop.params[""] || []).forEach(function (t) { found.push(t.toLowerCase()); });
    return found;
  }

  function preference(prop) {
    var pref = prop.params.PREF;
    if (pref && /^\d/.test(pref[0])) return parseInt(pref[0], 10);
    return types(prop).indexOf("pref") >= 0 ? 1 : 101;
  }

  function best(props, prefer) {
    if (!props || !props.length) return null;
    prefer = prefer || [];
    var ranked = props.map(function (p, index) {
      var t = types(p), kind = prefer.length;
      for (var n = 0; n < prefer.length; n++) { if (t.indexOf(prefer[n]) >= 0) { kind = n; break; } }
      return [preference(p), kind, index, p];
    });
    ranked.sort(function (a, b) { return (a[0] - b[0]) || (a[1] - b[1]) || (a[2] - b[2]); });
    return ranked[0][3];
  }

  function splitFullName(full) {
    var words = full.split(/\s+/).filter(Boolean);
    if (!words.length) return {};
    if (words.length === 1) return { last_name: words[0] };
    return { first_name: words.slice(0, -1).join(" "), last_name: words[words.length - 1] };
  }

  function stripScheme(v, scheme) {
    v = v.trim();
    return v.toLowerCase().indexOf(scheme) === 0 ? v.slice(scheme.length).trim() : v;
  }

  function assign(target, source) { Object.keys(source).forEach(function (k) { target[k] = source[k]; }); return target; }

  function fromVcard(text) {
    var props = {};
    var lines = unfold(text);
    for (var i = 0; i < lines.length; i++) {
      var prop = parseLine(lines[i]);
      if (!prop) continue;
      if (prop.name === "END" && prop.value.trim().toUpperCase() === "VCARD") break;
      (props[prop.name] = props[prop.name] || []).push(prop);
    }
    var f = {};
    var n = best(props.N);
    if (n) { var np = components(n.value).concat(["", "", "", "", ""]); f.last_name = np[0]; f.first_name = np[1]; }
    if (!(f.first_name || f.last_name)) { var fn = best(props.FN); if (fn) assign(f, splitFullName(unescapeValue(fn.value))); }
    var org = best(props.ORG); if (org) f.company = components(org.value)[0];
    var title = best(props.TITLE); if (title) f.title = unescapeValue(title.value);
    var email = best(props.EMAIL, ["work", "internet"]); if (email) f.email = stripScheme(unescapeValue(email.value), "mailto:");
    var tel = best(props.TEL, ["work", "cell", "voice"]); if (tel) f.phone = stripScheme(unescapeValue(tel.value), "tel:");
    var adr = best(props.ADR, ["work"]);
    if (adr) {
      var a = components(adr.value).concat(["", "", "", "", "", "", ""]);
      f.street = [a[2], a[1], a[0]].filter(Boolean).join(", ");
      f.city = a[3]; f.region = a[4]; f.postcode = a[5]; f.country = a[6];
    }
    var note = best(props.NOTE); if (note) f.note = unescapeValue(note.value);
    return f;
  }

  function fromMecard(body) {
    var f = {};
    splitEscaped(body, ";").forEach(function (item) {
      var i = item.indexOf(":");
      if (i < 0) return;
      var key = item.slice(0, i).trim().toUpperCase(), raw = item.slice(i + 1), v = unescapeValue(raw).trim();
      if (key === "N" && !(f.first_name || f.last_name)) {
        var parts = components(raw, ",");
        if (parts.length === 1 && parts[0].indexOf(" ") >= 0) assign(f, splitFullName(parts[0]));
        else { f.last_name = parts[0]; f.first_name = parts.slice(1).join(" "); }
      } else if (key === "EMAIL" && !("email" in f)) f.email = v;
      else if (key === "TEL" && !("phone" in f)) f.phone = v;
      else if (key === "ORG" && !("company" in f)) f.company = v;
      else if (key === "TITLE" && !("title" in f)) f.title = v;
      else if (key === "NOTE" && !("note" in f)) f.note = v;
      else if (key === "ADR" && !("street" in f)) {
        var a = components(raw, ",");
        if (a.length >= 7) {
          f.street = [a[2], a[1], a[0]].filter(Boolean).join(", ");
          f.city = a[3]; f.region = a[4]; f.postcode = a[5]; f.country = a[6];
        } else {
          f.street = v;
        }
      }
    });
    return f;
  }

  function countryCode(v) {
    v = (v || "").trim();
    if (/^[A-Za-z]{2}$/.test(v)) return v.toUpperCase();
    return COUNTRIES[v.toLowerCase()] || "";
  }

  /** Person fields from vCard or MeCard text; throws an Error with a message otherwise. */
  function parseCard(text) {
    text = (text || "").replace(/^\ufeff/, "").trim();
    if (!text) throw new Error("Paste or scan a vCard or MeCard.");
    var head = text.slice(0, 20).toUpperCase(), f;
    if (head.indexOf("BEGIN:VCARD") === 0) f = fromVcard(text);
    else if (head.indexOf("MECARD:") === 0) f = fromMecard(text.slice(7));
    else if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) f = { email: text };
    else throw new Error("This is not a vCard (BEGIN:VCARD…) or MeCard (MECARD:…) text.");
    var out = {};
    Object.keys(LIMITS).forEach(function (name) {
      var v = f[name] || "";
      v = name === "note" ? v.trim() : v.split(/\s+/).filter(Boolean).join(" ");
      if (name === "country") v = countryCode(v);
      if (v) out[name] = v.slice(0, LIMITS[name]);
    });
    return out;
  }

  function fillFromText(text, loud) {
    var card;
    try {
      card = parseCard(text);
    } catch (err) {
      if (loud) { showErrors({ scan_text: [err.message] }); scanResult.textContent = ""; }
      return false;
    }
    PERSON.forEach(function (name) { setValue(name, card[name] || ""); });
    if (card.note && !value("note")) setValue("note", card.note);
    var anyAddress = ["street", "postcode", "city", "country"].some(function (n) { return card[n]; });
    var details = form.querySelector("details");
    if (anyAddress && details) details.open = true;
    showErrors({});
    var who = [card.first_name, card.last_name].filter(Boolean).join(" ") || card.email || "the card";
    scanResult.textContent = "Filled from " + who + ". Check, then save.";
    return true;
  }

  // --- scanning: camera (BarcodeDetector), photo, pasted text, .vcf file -----------------------

  scanText.addEventListener("input", function () {
    var t = scanText.value.trim().toUpperCase();
    if (t.indexOf("BEGIN:VCARD") === 0 && t.indexOf("END:VCARD") < 0) return; // still pasting
    if (t.indexOf("BEGIN:VCARD") === 0 || t.indexOf("MECARD:") === 0) fillFromText(scanText.value, false);
  });

  var cardFile = form.elements.card_file;
  if (cardFile) {
    cardFile.addEventListener("change", function () {
      var file = cardFile.files && cardFile.files[0];
      if (!file) return;
      if (file.size > 1000000) { showErrors({ card_file: ["A contact card file is at most 1 MB."] }); return; }
      file.text().then(function (text) {
        scanText.value = text;
        fillFromText(text, true);
        cardFile.value = "";
      });
    });
  }

  var detector = null;
  if ("BarcodeDetector" in window) {
    try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
  }
  var stream = null;
  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    $("scan-video").hidden = true;
    $("scan-stop").hidden = true;
    $("scan-start").hidden = false;
  }
  function useScan(raw) {
    scanText.value = raw;
    if (!fillFromText(raw, true)) scanResult.textContent = "Read a code, but it holds no contact card.";
  }
  if (detector) {
    $("scan-live").hidden = false;
    var video = $("scan-video");
    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) $("scan-start").hidden = true;
    $("scan-start").addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        $("scan-stop").hidden = false;
        $("scan-start").hidden = true;
        return video.play().then(function tick() {
          if (!stream) return;
          detector.detect(video).then(function (codes) {
            if (codes.length) { useScan(codes[0].rawValue); stopCamera(); } else { setTimeout(tick, 250); }
          }, function () { setTimeout(tick, 500); });
        });
      }).catch(function (err) {
        stopCamera();
        scanResult.textContent = "The camera is not available (" + err.name + "): take a photo or paste the text.";
      });
    });
    $("scan-stop").addEventListener("click", stopCamera);
    $("scan-photo").addEventListener("change", function (ev) {
      var file = ev.target.files && ev.target.files[0];
      if (!file) return;
      createImageBitmap(file).then(function (img) { return detector.detect(img); }).then(function (codes) {
        if (codes.length) useScan(codes[0].rawValue);
        else scanResult.textContent = "No QR code found in the photo: try again closer.";
      }).catch(function () { scanResult.textContent = "Could not read the photo."; });
      ev.target.value = "";
    });
  }

  // --- the queue on this phone ------------------------------------------------------------------

  var STATE_TEXT = { queued: "queued", syncing: "syncing", synced: "synced", failed: "failed" };

  function describe(entry) {
    var d = entry.data;
    var name = [d.first_name, d.last_name].filter(Boolean).join(" ");
    return name && d.email ? name + " · " + d.email : (name || d.email || "(no name)");
  }

  function placeText(d) {
    var sel = field("campaign");
    var opt = sel && d.campaign ? sel.querySelector('option[value="' + CSS.escape(String(d.campaign)) + '"]') : null;
    var where = d.location || (opt ? opt.textContent : "");
    if (d.own_network) where = where ? where + " · own network" : "Own network";
    return where;
  }

  function button(text, cls, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function render() {
    return allEntries().then(function (entries) {
      queueCard.hidden = entries.length === 0;
      queueList.textContent = "";
      var counts = { queued: 0, syncing: 0, synced: 0, failed: 0 };
      entries.forEach(function (entry) {
        counts[entry.state] = (counts[entry.state] || 0) + 1;
        var li = document.createElement("li");
        li.dataset.uuid = entry.uuid;
        li.dataset.state = entry.state;
        var who = document.createElement("span");
        who.className = "who";
        who.textContent = describe(entry);
        li.appendChild(who);
        var state = document.createElement("span");
        state.className = "badge state state-" + entry.state;
        state.textContent = STATE_TEXT[entry.state] || entry.state;
        li.appendChild(state);
        var where = placeText(entry.data);
        if (where) {
          var w = document.createElement("span");
          w.className = "muted";
          w.textContent = where;
          li.appendChild(w);
        }
        if (entry.reason) {
          var r = document.createElement("span");
          r.className = "reason";
          r.textContent = entry.reason;
          li.appendChild(r);
        }
        if (entry.state === "synced" && entry.result && entry.result.person) {
          var a = document.createElement("a");
          a.href = entry.result.person.url;
          a.textContent = entry.result.replayed ? "open (saved before)" : "open";
          li.appendChild(a);
        }
        if (entry.state === "failed") {
          li.appendChild(button("Edit", "secondary", function () { edit(entry); }));
          li.appendChild(button("Discard", "secondary danger-text", function () {
            if (window.confirm("Discard this entry? It was not saved.")) deleteEntry(entry.uuid).then(render);
          }));
        }
        queueList.appendChild(li);
      });
      summary.textContent = counts.queued + " queued · " + counts.syncing + " syncing · " +
        counts.synced + " synced · " + counts.failed + " failed";
    });
  }

  function edit(entry) {
    editing = entry.uuid;
    PERSON.concat(PLACE, LEAD).forEach(function (name) {
      var el = field(name);
      if (el && typeof RadioNodeList !== "undefined" && el instanceof RadioNodeList) el.value = entry.data[name] || "";
      else setValue(name, entry.data[name]);
    });
    showErrors(entry.errors || {});
    $("save").textContent = "Save again";
    field("first_name").focus();
  }

  // --- what the salesperson reads after Save: in the save bar, under the thumb ----------------------

  function tellSaved(text, kind) {
    if (!saveStatus) return;
    saveStatus.textContent = "";
    var span = document.createElement("span");
    span.className = kind;
    span.textContent = text;
    saveStatus.appendChild(span);
  }

  /** Add a synced entry to "Saved today by you" at once, newest first. */
  function addSavedToday(item) {
    if (!savedToday || !item || !item.touchpoint_id) return;
    if (savedToday.querySelector('li[data-touchpoint="' + item.touchpoint_id + '"]')) return;
    var li = document.createElement("li");
    li.dataset.touchpoint = item.touchpoint_id;
    var a = document.createElement("a");
    a.href = item.url;
    a.textContent = item.name;
    li.appendChild(a);
    var kind = document.createElement("span");
    kind.className = "badge";
    kind.textContent = item.kind;
    li.appendChild(kind);
    [item.location, item.time].forEach(function (text) {
      if (!text) return;
      var span = document.createElement("span");
      span.className = "muted";
      span.textContent = text;
      li.appendChild(span);
    });
    savedToday.insertBefore(li, savedToday.firstChild);
    savedToday.hidden = false;
    if (savedTodayEmpty) savedTodayEmpty.hidden = true;
  }

  // --- saving ------------------------------------------------------------------------------------

  function collect() {
    var data = {};
    PERSON.concat(PLACE, LEAD).forEach(function (name) { data[name] = value(name); });
    return data;
  }

  function rememberPlace() {
    var place = {};
    PLACE.forEach(function (name) { place[name] = value(name); });
    try { localStorage.setItem(PLACE_KEY, JSON.stringify(place)); } catch (e) { /* private mode */ }
  }

  function restorePlace() {
    var params = new URLSearchParams(location.search);
    if (PLACE.some(function (n) { return params.get(n); })) return;
    var place;
    try { place = JSON.parse(localStorage.getItem(PLACE_KEY) || "null"); } catch (e) { place = null; }
    if (!place) return;
    PLACE.forEach(function (name) {
      var el = field(name);
      if (!el || !place[name]) return;
      if (el.tagName === "SELECT" && !el.querySelector('option[value="' + CSS.escape(String(place[name])) + '"]')) return;
      el.value = place[name];
    });
  }

  function clearEntryFields() {
    PERSON.concat(LEAD).forEach(function (name) {
      var el = field(name);
      if (el && typeof RadioNodeList !== "undefined" && el instanceof RadioNodeList) el.value = "";
      else setValue(name, "");
    });
    scanText.value = "";
    scanResult.textContent = "";
    var details = form.querySelector("details");
    if (details) details.open = false;
    showErrors({});
  }

  var lastSubmitter = null;
  form.addEventListener("click", function (ev) {
    if (ev.target && ev.target.type === "submit") lastSubmitter = ev.target;
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var submitter = ev.submitter || lastSubmitter;
    if (submitter && submitter.value === "read_card") {
      fillFromText(scanText.value, true);
      return;
    }
    var data = collect();
    if (!data.first_name && !data.last_name && !data.email) {
      showErrors({ last_name: ["Give at least a name or an email address."] });
      field("first_name").focus();
      return;
    }
    var entry = {
      uuid: editing || newUuid(),
      created_at: new Date().toISOString(),
      state: "queued",
      reason: "",
      data: data
    };
    editing = null;
    $("save").textContent = "Save";
    putEntry(entry).then(function () {
      rememberPlace();
      clearEntryFields();
      field("first_name").focus(); // ready for the next one; the save bar stays in view
      tellSaved(navigator.onLine ? "Kept on this phone: " + describe(entry) + ", sending…" :
        "Offline: " + describe(entry) + " is kept on this phone and syncs when the network returns.",
        "queued");
      return render();
    }).then(function () {
      if (navigator.onLine) syncAll(false);
    });
  });

  // --- syncing -----------------------------------------------------------------------------------

  var syncing = false;

  function syncOne(entry) {
    entry.state = "syncing";
    return putEntry(entry).then(render).then(function () {
      var body = { uuid: entry.uuid, captured_at: entry.created_at };
      Object.keys(entry.data).forEach(function (k) { body[k] = entry.data[k]; });
      return fetch(SYNC_URL, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body)
      });
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (answer) {
        if (res.ok && answer.status === "synced") {
          entry.state = "synced"; entry.reason = ""; entry.errors = null; entry.result = answer;
          tellSaved(answer.message || "Saved " + describe(entry) + ".", "success");
          addSavedToday(answer.saved);
        } else if (res.status === 422 || res.status === 400) {
          entry.state = "failed"; entry.retry = false;
          entry.reason = answer.message || "Refused (" + res.status + ").";
          entry.errors = answer.errors || {};
          tellSaved("Not saved: " + describe(entry) + ": " + entry.reason + " Edit it under On this phone.", "failed");
        } else if (res.status === 401 || res.status === 403 || res.redirected) {
          entry.state = "failed"; entry.retry = true;
          entry.reason = answer.message || "Sign in again (the session or security token expired), then sync.";
        } else {
          entry.state = "failed"; entry.retry = true;
          entry.reason = "The server answered " + res.status + ": will retry.";
        }
        return putEntry(entry).then(function () { return entry.state === "synced" || !entry.retry; });
      });
    }, function () {
      // No network (or it dropped mid-request): back in the queue, unchanged.
      entry.state = "queued";
      entry.reason = "";
      return putEntry(entry).then(function () { return false; });
    });
  }

  /** Send every entry not yet synced; `manual` also retries refused ones. */
  function syncAll(manual) {
    if (syncing) return Promise.resolve();
    syncing = true;
    return allEntries().then(function (entries) {
      var todo = entries.filter(function (e) {
        if (e.state === "synced") return false;
        if (e.state === "failed" && !e.retry && !manual) return false;
        return true;
      }).reverse(); // oldest first
      var chain = Promise.resolve(true);
      todo.forEach(function (entry) {
        chain = chain.then(function (goOn) { return goOn ? syncOne(entry) : false; });
      });
      return chain;
    }).then(function () { syncing = false; return render(); }, function () { syncing = false; return render(); });
  }

  $("sync-now").addEventListener("click", function () { syncAll(true); });
  $("clear-synced").addEventListener("click", function () {
    allEntries().then(function (entries) {
      return Promise.all(entries.filter(function (e) { return e.state === "synced"; })
        .map(function (e) { return deleteEntry(e.uuid); }));
    }).then(render);
  });

  function showNetwork() {
    netStatus.hidden = false;
    netStatus.className = "net " + (navigator.onLine ? "online" : "offline");
    netStatus.textContent = navigator.onLine ? "Online" :
      "Offline: entries stay on this phone and sync when the network returns.";
  }
  window.addEventListener("online", function () { showNetwork(); syncAll(false); });
  window.addEventListener("offline", showNetwork);

  // --- start ---------------------------------------------------------------------------------------

  if ("serviceWorker" in navigator && form.dataset.swUrl) {
    navigator.serviceWorker.register(form.dataset.swUrl, { scope: form.dataset.scope }).catch(function () {
      /* no offline shell (e.g. plain http on a LAN address); the queue still works */
    });
  }
  window.tandemQuickCapture = { parseCard: parseCard }; // the same reading as capture/vcard.py
  form.dataset.ready = "true";
  restorePlace();
  showNetwork();
  // An entry left "syncing" when the page closed is sent again: the server replays it safely.
  allEntries().then(function (entries) {
    return Promise.all(entries.filter(function (e) { return e.state === "syncing"; }).map(function (e) {
      e.state = "queued";
      return putEntry(e);
    }));
  }).then(render).then(function () { if (navigator.onLine) syncAll(false); });
})();
