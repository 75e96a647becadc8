// posbon's public check (/check): is this number, card, link or handle reported as used in
// fraud? Normalises what was typed exactly as posbon's cyber crate does, hashes it with
// SHA-256 ("posbon-indicator-v1\n<kind>\n<normal form>"), sends only the first hex digits of
// the hash (5; 3 for a card) to /public/check/<prefix> and looks for the whole hash in the
// answer here, in the browser: the server never learns what was asked.
//
// The same file runs under node in the server's tests (crates/server/tests/fraud.rs), which
// compare its normal forms and hashes with the Rust code's, so the two cannot drift.
(function (root) {
  'use strict';

  var DOMAIN = 'posbon-indicator-v1';
  var ELLIPSIS = '\u2026';
  // cyber::UZ_MOBILE_CODES and cyber::UZ_FIXED_CODES
  var UZ_CODES = [20, 33, 50, 77, 88, 90, 91, 93, 94, 95, 97, 98, 99,
    55, 61, 62, 65, 66, 67, 69, 70, 71, 72, 73, 74, 75, 76, 78, 79];
  // cyber's COUNTRY_CODES (ITU-T E.164 codes in service)
  var COUNTRY_CODES = [1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
    51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94,
    95, 98, 211, 212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231,
    232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250,
    251, 252, 253, 254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290,
    291, 297, 298, 299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374,
    375, 376, 377, 378, 379, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502,
    503, 504, 505, 506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672,
    673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692,
    800, 808, 850, 852, 853, 855, 856, 870, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964,
    965, 966, 967, 968, 970, 971, 972, 973, 974, 975, 976, 977, 992, 993, 994, 995, 996, 998];
  // cyber::PLATFORM_DOMAINS: a link there names an account, not the site
  var PLATFORMS = ['t.me', 'telegram.me', 'telegram.org', 'instagram.com', 'facebook.com', 'fb.com',
    'vk.com', 'ok.ru', 'youtube.com', 'youtu.be', 'google.com', 'goo.gl', 'tiktok.com', 'x.com',
    'twitter.com', 'whatsapp.com', 'wa.me', 'olx.uz', 'uzum.uz', 'bit.ly', 'github.io',
    'blogspot.com', 'wordpress.com', 'yandex.ru'];
  var TELEGRAM_HOSTS = ['t.me', 'telegram.me', 'telegram.dog', 'www.t.me'];
  var TME_RESERVED = ['joinchat', 'addstickers', 'addemoji', 'addtheme', 'addlist', 'share', 'proxy',
    'socks', 'iv', 'login', 'setlanguage', 'confirmphone', 'c', 'boost'];
  // The simple cases of the Public Suffix List: suffixes of two labels common here. Other
  // multi-label suffixes are not known to this page (the server's list is complete).
  var SECOND_LEVEL = ['co.uz', 'com.uz', 'net.uz', 'org.uz', 'co.uk', 'org.uk', 'ac.uk', 'gov.uk',
    'com.ru', 'net.ru', 'org.ru', 'msk.ru', 'spb.ru', 'com.kz', 'org.kz', 'com.tr', 'com.ua',
    'co.jp', 'com.cn', 'com.au', 'co.in'];

  function ok(kind, value) { return { ok: true, kind: kind, value: value }; }
  function no(error) { return { ok: false, error: error }; }

  // cyber's cleaned view: bidirectional controls and invisible characters removed; exotic
  // spaces, dashes, full-width forms, Arabic-Indic and mathematical digits and ideographic full
  // stops mapped to ASCII.
  function clean(s) {
    var out = '';
    for (var ch of s) {
      var c = ch.codePointAt(0);
      if (c === 0x061C || c === 0x200E || c === 0x200F || (c >= 0x202A && c <= 0x202E) ||
          (c >= 0x2066 && c <= 0x2069)) continue;
      if (c === 0x00AD || c === 0x034F || c === 0x115F || c === 0x1160 || c === 0x17B4 ||
          c === 0x17B5 || (c >= 0x180B && c <= 0x180F) || (c >= 0x200B && c <= 0x200D) ||
          (c >= 0x2060 && c <= 0x2064) || (c >= 0x206A && c <= 0x206F) || c === 0x3164 ||
          (c >= 0xFE00 && c <= 0xFE0F) || c === 0xFEFF || c === 0xFFA0 ||
          (c >= 0xE0000 && c <= 0xE007F) || (c >= 0xE0100 && c <= 0xE01EF)) continue;
      if (c === 0x00A0 || (c >= 0x2000 && c <= 0x200A) || c === 0x202F || c === 0x205F ||
          c === 0x3000) { out += ' '; continue; }
      if ((c >= 0x2010 && c <= 0x2015) || c === 0x2212 || c === 0xFE58 || c === 0xFE63) {
        out += '-'; continue;
      }
      if (c === 0x3002 || c === 0xFF61) { out += '.'; continue; }
      if (c >= 0xFF01 && c <= 0xFF5E) { out += String.fromCodePoint(c - 0xFEE0); continue; }
      if (c >= 0x0660 && c <= 0x0669) { out += String(c - 0x0660); continue; }
      if (c >= 0x06F0 && c <= 0x06F9) { out += String(c - 0x06F0); continue; }
      if (c >= 0x1D7CE && c <= 0x1D7FF) { out += String((c - 0x1D7CE) % 10); continue; }
      out += ch;
    }
    return out;
  }

  function isDigit(c) { return c >= '0' && c <= '9'; }

  // cyber::phone::uz_from_nsn
  function uzPhone(nsn) {
    if (nsn.length !== 9) return no('length');
    var code = parseInt(nsn.slice(0, 2), 10);
    if (UZ_CODES.indexOf(code) < 0) return no('uz_code');
    return ok('phone', '+998' + nsn);
  }

  function e164Lengths(cc) {
    switch (cc) {
      case 1: case 7: case 993: case 33: case 34: case 48: case 371: case 373: return [11, 11];
      case 998: case 992: case 996: case 994: case 995: case 380: case 375: case 90: case 91:
        return [12, 12];
      case 86: return [12, 13];
      case 44: return [11, 12];
      case 82: return [10, 12];
      default: return [8, 15];
    }
  }

  // cyber::phone::international: the digits after + or 00
  function international(d) {
    if (d.slice(0, 3) === '998') {
      return d.length === 12 ? uzPhone(d.slice(3)) : no('length');
    }
    var cc = 0, ccLen = 0;
    for (var i = 0; i < 3 && i < d.length; i++) {
      var v = parseInt(d.slice(0, i + 1), 10);
      if (COUNTRY_CODES.indexOf(v) >= 0) { cc = v; ccLen = i + 1; break; }
    }
    if (!ccLen) return no('country_code');
    var len = e164Lengths(cc);
    if (d.length < len[0] || d.length > len[1]) return no('length');
    var first = d[ccLen];
    if ((cc === 1 && first < '2') || (cc === 7 && first === '0')) return no('length');
    return ok('phone', '+' + d);
  }

  // cyber::parse_phone: every Uzbek way of writing a number, foreign ones only with +
  function phone(field) {
    var s = clean(field).trim();
    var d = '', plus = false;
    for (var i = 0; i < s.length; i++) {
      var c = s[i];
      if (isDigit(c)) {
        if (d.length > 20) return no('length');
        d += c;
      } else if (c === '+' && i === 0) {
        plus = true;
      } else if (' -.()/'.indexOf(c) < 0) {
        return no('character');
      }
    }
    if (!d) return no('empty');
    if (plus) return international(d);
    if (d.slice(0, 2) === '00') return international(d.slice(2));
    if (d.length === 12 && d.slice(0, 3) === '998') return uzPhone(d.slice(3));
    if (d.length === 10 && d[0] === '8') return uzPhone(d.slice(1));
    if (d.length === 9) return uzPhone(d);
    if (d.length === 11 && (d[0] === '8' || d[0] === '7')) return no('not_uzbek');
    return no('length');
  }

  function luhn(d) {
    var sum = 0;
    for (var i = 0; i < d.length; i++) {
      var v = d.charCodeAt(d.length - 1 - i) - 48;
      if (i % 2 === 1) { v *= 2; if (v > 9) v -= 9; }
      sum += v;
    }
    return sum % 10 === 0;
  }

  // cyber::parse_card, answered in the check-only form BIN…last4 (the full number's hash
  // needs the server's secret key, and would be guessable from a public list without it)
  function card(field) {
    var s = clean(field).trim();
    var d = '';
    for (var i = 0; i < s.length; i++) {
      var c = s[i];
      if (isDigit(c)) {
        if (d.length === 19) return no('length');
        d += c;
      } else if (c !== ' ' && c !== '-') {
        return no('character');
      }
    }
    if (d.length < 13 || d.length > 19) return no('length');
    var p4 = parseInt(d.slice(0, 4), 10), p2 = Math.floor(p4 / 100);
    if (p4 !== 8600 && p4 !== 9860 && !(p2 >= 20 && p2 <= 69)) return no('prefix');
    if (!luhn(d)) return no('luhn');
    return ok('card', d.slice(0, 6) + ELLIPSIS + d.slice(-4));
  }

  // cyber::telegram_username
  function username(name) {
    if (!/^[A-Za-z0-9_]*$/.test(name)) return no('character');
    if (name.length < 5 || name.length > 32) return no('length');
    if (!/^[A-Za-z]/.test(name)) return no('letter');
    if (name[name.length - 1] === '_') return no('underscore');
    return ok('handle', name.toLowerCase());
  }

  function tmePath(path) {
    var segs = path.replace(/^\/+/, '').split('/');
    var first = segs[0] || '';
    if (first === 's') first = segs[1] || '';
    if (first[0] === '+' || TME_RESERVED.indexOf(first.toLowerCase()) >= 0) return no('not_user');
    return username(first);
  }

  // cyber::parse_handle: @name, name, t.me/name
  function handle(field) {
    var s = clean(field).trim();
    if (s[0] === '@') return username(s.slice(1));
    var lower = s.toLowerCase().replace(/^https?:\/\//, '');
    for (var i = 0; i < TELEGRAM_HOSTS.length; i++) {
      var h = TELEGRAM_HOSTS[i];
      if (lower.slice(0, h.length + 1) === h + '/') {
        return tmePath(lower.slice(h.length).split(/[?#]/)[0]);
      }
    }
    return username(s);
  }

  function refang(s) {
    return s
      .replace(/^hxxp(s?)(?=:\/\/|\[:\]\/\/|\[:\/\/\])/i, 'http$1')
      .replace(/\[:\/\/\]/g, '://')
      .replace(/\[:\]\/\//g, '://')
      .replace(/([\p{L}\p{N}])(?:\[(?:\.|dot)\]|\((?:\.|dot)\)|\{(?:\.|dot)\})(?=[\p{L}\p{N}])/giu, '$1.');
  }

  // A link or a site, checked by its registrable domain (what links reports of one site);
  // t.me links are handles.
  function link(field) {
    var s = refang(clean(field).trim());
    if (!s) return no('empty');
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
      if (/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(s)) return no('scheme');
      s = 'http://' + s;
    }
    var u;
    try { u = new URL(s); } catch (e) { return no('host'); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return no('scheme');
    var host = u.hostname.replace(/\.$/, '');
    if (TELEGRAM_HOSTS.indexOf(host) >= 0) {
      var h = tmePath(u.pathname);
      if (h.ok) return h;
    }
    if (!host || host[0] === '[' || /^[0-9.]+$/.test(host)) return no('address');
    var labels = host.split('.');
    if (labels.length < 2) return no('host');
    var two = labels.slice(-2).join('.');
    var reg = SECOND_LEVEL.indexOf(two) >= 0 ? labels.slice(-3).join('.') : two;
    if (labels.length < 3 && SECOND_LEVEL.indexOf(two) >= 0) return no('host');
    if (PLATFORMS.indexOf(reg) >= 0) return no('platform');
    return ok('domain', reg);
  }

  var BY_KIND = { phone: phone, card: card, link: link, handle: handle };

  // {ok: true, kind, value} with the kind and normal form that are hashed, or {ok: false, error}
  function normalise(kind, text) {
    var f = BY_KIND[kind];
    return f ? f(String(text)) : no('kind');
  }

  function subtle() {
    var c = (typeof crypto !== 'undefined' && crypto) || (root && root.crypto);
    return c && c.subtle;
  }

  // hex SHA-256 of "posbon-indicator-v1\n<kind>\n<value>" (cyber::indicator_hash)
  function hashHex(kind, value) {
    var data = new TextEncoder().encode(DOMAIN + '\n' + kind + '\n' + value);
    return subtle().digest('SHA-256', data).then(function (buf) {
      return Array.from(new Uint8Array(buf)).map(function (b) {
        return (b < 16 ? '0' : '') + b.toString(16);
      }).join('');
    });
  }

  // 3 hex digits for a card's BIN…last4 (a small space: 5 would nearly name it), 5 otherwise
  function prefixLength(kind) { return kind === 'card' ? 3 : 5; }

  var api = { normalise: normalise, hashHex: hashHex, prefixLength: prefixLength, clean: clean };

  function wire(doc) {
    var form = doc.getElementById('check-form');
    if (!form) return;
    var out = doc.getElementById('check-result');
    var words = form.dataset;
    doc.getElementById('check-nojs').hidden = true;
    form.hidden = false;
    function say(cls, html) {
      out.className = cls;
      out.innerHTML = html;
      out.focus();
    }
    function esc(s) {
      return String(s).replace(/[&<>"']/g, function (c) {
        return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
      });
    }
    function adviceLinks(kind, channels) {
      var links = ['<a href="#advice-' + esc(kind) + '">' + esc(words['kind' + kind] || kind) + '</a>'];
      channels.forEach(function (c) {
        var key = 'channel' + c.replace(/_/g, '');
        links.push('<a href="#advice-' + esc(c) + '">' + esc(words[key] || c) + '</a>');
      });
      return links.join(' · ');
    }
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var kind = doc.getElementById('check-kind').value;
      var text = doc.getElementById('check-value').value;
      var n = normalise(kind, text);
      if (!n.ok) {
        say('error', esc(words['invalid' + kind] || words.invalid));
        return;
      }
      var shown = n.kind === 'handle' ? '@' + n.value : n.value;
      hashHex(n.kind, n.value).then(function (hash) {
        var prefix = hash.slice(0, prefixLength(n.kind));
        return fetch('/public/check/' + prefix, { credentials: 'omit' }).then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        }).then(function (answer) {
          var hit = (answer.hashes || []).filter(function (h) { return h.hash === hash; })[0];
          if (hit) {
            say('found', '<strong>' + esc(words.found) + '</strong> <code>' + esc(shown) + '</code><br>' +
              esc(words.advice) + ' ' + adviceLinks(n.kind === 'domain' ? 'link' : n.kind, hit.channels || []) +
              '<br><a href="/fraud">' + esc(words.report) + '</a>');
          } else {
            say('clear', '<strong>' + esc(words.notfound) + '</strong> <code>' + esc(shown) + '</code><br>' +
              esc(words.notsafe) + ' <a href="#advice-' + esc(n.kind === 'domain' ? 'link' : n.kind) + '">' +
              esc(words.advice) + '</a>');
          }
        });
      }).catch(function () {
        say('error', esc(words.failed));
      });
    });
  }

  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.posbonCheck = api;
    if (typeof document !== 'undefined') {
      if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', function () { wire(document); });
      } else {
        wire(document);
      }
    }
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
