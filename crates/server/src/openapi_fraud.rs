//! The OpenAPI description of victims' fraud reports, the public check and campaigns, merged
//! into [`crate::openapi::document`].
use serde_json::{Value, json};

use crate::openapi::{authed, body, err, id_param, ok_json, op, query_int, secured};

fn html(desc: &str) -> Value {
    json!({ "description": desc, "content": { "text/html": { "schema": { "type": "string" } } } })
}

fn lang() -> Value {
    json!({ "name": "lang", "in": "query", "required": false, "description": "page language (Uzbek by default)", "schema": { "enum": ["uz", "ru", "en"] } })
}

fn page(summary: &str, description: &str, params: Vec<Value>) -> Value {
    json!({ "summary": summary, "description": description, "parameters": params,
        "responses": { "200": html("the page") } })
}

pub(crate) fn schemas() -> Value {
    let channels: Vec<&str> = domain::Channel::ALL.iter().map(|c| c.as_str()).collect();
    let kinds: Vec<&str> = cyber::IndicatorKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let statuses: Vec<&str> = domain::ReportStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    json!({
        "NewFraudReport": { "type": "object", "required": ["occurred_at", "amount_lost", "channel", "narrative", "mahalla"], "additionalProperties": false,
            "description": "A victim's report. Also accepted as an HTML form (application/x-www-form-urlencoded) with the fields of the /fraud page (amount in so'm there). Each typed indicator is checked (a card's Luhn digit, an IBAN's mod 97, a phone number's code) and a wrong one is refused with 400 naming it in `field`; the narrative's indicators are extracted, and card numbers in it are stored as BIN…last4.",
            "properties": {
                "occurred_at": { "type": "string", "format": "date-time" },
                "amount_lost": { "type": "integer", "minimum": 0, "description": "in tiyin (1/100 so'm)" },
                "channel": { "enum": channels },
                "narrative": { "type": "string", "minLength": 1, "maxLength": domain::fraud::MAX_FRAUD_NARRATIVE_CHARS },
                "mahalla": { "type": "integer", "description": "the victim's mahalla: the incident is recorded there" },
                "contact": { "type": "string", "description": "a phone number or e-mail address, seen only by moderators (audited)" },
                "indicators": { "type": "array", "maxItems": domain::fraud::MAX_FRAUD_INDICATORS, "items": { "type": "object", "required": ["kind", "value"], "additionalProperties": false, "properties": {
                    "kind": { "enum": kinds }, "value": { "type": "string" } } } },
                "idempotency_key": { "type": "string", "maxLength": crate::fraud::MAX_IDEMPOTENCY_KEY_BYTES, "description": "sending the same key again stores nothing and answers the first report (also the Idempotency-Key header)" } } },
        "FraudReceipt": { "type": "object", "properties": {
            "code": { "type": "string", "example": "R-7KQ4M-2XD9P" }, "status": { "enum": statuses },
            "status_url": { "type": "string" },
            "already_received": { "type": "boolean", "description": "the same key, or the same content within a day, was sent before; this is that report's code" },
            "indicators": { "type": "array", "items": { "type": "object", "properties": { "kind": { "enum": kinds }, "value": { "type": "string", "description": "normal form; a card as BIN…last4" }, "found_in": { "enum": ["field", "text"] } } } } } },
        "FieldError": { "type": "object", "required": ["error", "fix"], "properties": {
            "error": { "type": "string" }, "fix": { "type": "string" },
            "field": { "type": "string", "description": "the field at fault: indicators[N], narrative, mahalla, contact, amount_lost, ..." } } },
        "FraudReport": { "type": "object", "description": "A fraud report as moderators see it: id, code, occurred_at, amount_lost (tiyin), channel, narrative (cards masked), mahalla, status, reject_reason, moderator, moderation_note, incident, submitted_at, updated_at, has_contact, indicators [{kind, value, hash, link_domain, found_in, suspicious, defanged}]; contact only in GET /api/fraud-reports/{id} (audited)." },
        "CheckAnswer": { "type": "object", "properties": {
            "prefix": { "type": "string" },
            "hashes": { "type": "array", "items": { "type": "object", "properties": {
                "hash": { "type": "string", "description": "hex SHA-256 of posbon-indicator-v1\\n<kind>\\n<normal form>" },
                "kind": { "enum": kinds.iter().map(|k| json!(k)).chain([Value::Null]).collect::<Vec<_>>() },
                "channels": { "type": "array", "items": { "enum": channels } } } } } } },
        "Campaign": { "type": "object", "description": "id (its smallest report id), reports, victims, reports_in_scope, reports_outside_scope, total_loss_tiyin, first_occurred_at, last_occurred_at, channels {channel: reports}" }
    })
}

pub(crate) fn paths() -> Value {
    let obj = json!({ "type": "object" });
    let campaign_id = json!({ "name": "id", "in": "path", "required": true, "description": "the campaign's id (its smallest report id; a report of it within scope also names it)", "schema": { "type": "integer", "minimum": 1 } });
    let code = json!({ "name": "code", "in": "path", "required": true, "description": "the reference code, as given (any case, dashes optional)", "schema": { "type": "string" } });
    let prefix = json!({ "name": "prefix", "in": "path", "required": true, "description": "the first 3 to 8 hex digits of the indicator's hash (5 recommended, 3 for a card's BIN…last4)", "schema": { "type": "string", "pattern": "^[0-9a-fA-F]{3,8}$" } });
    let fraud_ref = json!({ "$ref": "#/components/schemas/FraudReport" });
    json!({
        "/public/fraud-reports": { "post": {
            "summary": "Report a fraud (no login)",
            "description": "Stores a victim's report and answers its reference code. Rate limited per address and overall (shared with citizen reports). The narrative's card numbers are masked before storing; no client address is stored. Audited (fraud.submit).",
            "requestBody": body("NewFraudReport"),
            "responses": {
                "201": ok_json("stored", json!({ "$ref": "#/components/schemas/FraudReceipt" })),
                "200": ok_json("sent before: the first report's receipt", json!({ "$ref": "#/components/schemas/FraudReceipt" })),
                "400": ok_json("a field is wrong; `field` names it", json!({ "$ref": "#/components/schemas/FieldError" })),
                "413": err("body over 64 KiB"), "415": err("neither JSON nor a form"), "429": err("too many reports") } } },
        "/public/fraud-reports/{code}": { "get": { "summary": "A fraud report's status (no login)",
            "description": "The same public fields as a citizen report's status. At most 60 look-ups a minute per address.",
            "parameters": [code],
            "responses": { "200": ok_json("status", json!({ "$ref": "#/components/schemas/PublicReportStatus" })), "400": err("malformed code"), "404": err("no such code"), "429": err("too many look-ups") } } },
        "/public/check/{prefix}": { "get": { "summary": "The public check: reported hashes under a prefix (no login)",
            "description": "Every reported indicator hash starting with the prefix, with its kind and the channels of its reports (for advice). The client hashes what it checks and compares locally, so the server never sees it. Cache-Control public, 5 minutes; at most 60 a minute per address.",
            "parameters": [prefix],
            "responses": { "200": ok_json("the hashes", json!({ "$ref": "#/components/schemas/CheckAnswer" })), "400": err("not 3 to 8 hex digits"), "429": err("too many checks") } } },
        "/fraud": { "get": page("The fraud report form", "No login, no JavaScript needed; posts to /public/fraud-reports.", vec![lang(), json!({ "name": "district", "in": "query", "required": false, "schema": { "type": "integer" } })]) },
        "/fraud/status": { "get": page("A fraud report's status page", "Enter the code.", vec![lang(), json!({ "name": "code", "in": "query", "required": false, "schema": { "type": "string" } })]) },
        "/check": { "get": page("The public check page", "Hashes the number, card, link or handle in the browser (/public/check.js), sends a prefix, and links the answer to advice per kind of scam.", vec![lang()]) },
        "/public/check.js": { "get": { "summary": "The check page's script", "description": "The normalisers and the hash (WebCrypto); the server's tests run it under node against the Rust code.",
            "responses": { "200": { "description": "JavaScript", "content": { "text/javascript": { "schema": { "type": "string" } } } } } } },
        "/api/fraud-reports": { "get": secured(op("Fraud reports for moderation", "Within the caller's scope (the victim's mahalla), oldest first; page with after = next_after. Roles: admin, operator, analyst.",
            authed(json!({ "200": ok_json("{reports: [FraudReport], next_after}", obj.clone()), "400": err("bad query parameter") }), false)),
            vec![json!({ "name": "status", "in": "query", "required": false, "schema": { "enum": ["pending", "received", "under_review", "accepted", "rejected", "all"] } }),
                 query_int("after", "only ids above this"), query_int("limit", "page size (1..500, default 50)")], None) },
        "/api/fraud-reports/{id}": { "get": secured(op("One fraud report with its contact", "Showing a contact is audited (fraud.contact_view). Roles: admin, operator, analyst.",
            authed(json!({ "200": ok_json("{report}", fraud_ref), "404": err("no such report within the caller's scope") }), false)),
            vec![id_param("fraud report")], None) },
        "/api/fraud-reports/{id}/moderate": { "post": secured(op("Moderate a fraud report", "review, accept (category fraud or cybercrime, default fraud; mahalla within scope, default the victim's) or reject with a public reason. Accepting records the incident (source public) and adds the report's indicators to the index used by campaigns and the checks. Audited (fraud.moderate). Roles: admin, operator, analyst.",
            authed(json!({ "200": ok_json("{report, incident}", obj.clone()), "400": err("malformed decision"), "404": err("no such report within the caller's scope"), "409": err("already decided") }), true)),
            vec![id_param("fraud report")], Some(body("Moderation"))) },
        "/api/campaigns": { "get": secured(op("Fraud campaigns", "Accepted reports linked by shared indicators, touching the caller's scope, the largest first. Roles: admin, operator, inspector, analyst.",
            authed(json!({ "200": ok_json("{campaigns: [Campaign], total, min_reports}", obj.clone()), "400": err("bad query parameter") }), false)),
            vec![query_int("min_reports", "only campaigns with at least this many reports (default 2)"), query_int("limit", "at most this many (1..1000, default 100)")], None) },
        "/api/campaigns/{id}": { "get": secured(op("One campaign", "Totals, time line and indicators over all its reports (cards masked); the reports and mahallas within the caller's scope only. Roles: admin, operator, inspector, analyst.",
            authed(json!({ "200": ok_json("{campaign, reports, timeline, indicators, mahallas}", obj), "404": err("no such campaign touching the caller's scope") }), false)),
            vec![campaign_id.clone()], None) },
        "/api/campaigns/{id}/takedown.csv": { "get": secured(op("A campaign's takedown list as CSV", "kind, value, registrable_domain, reports, first_seen, last_seen, suspicious (formula-safe). Audited (campaign.export).",
            authed(json!({ "200": { "description": "CSV", "content": { "text/csv": { "schema": { "type": "string" } } } }, "404": err("no such campaign touching the caller's scope") }), false)),
            vec![campaign_id.clone()], None) },
        "/api/campaigns/{id}/stix.json": { "get": secured(op("A campaign as a STIX 2.1 bundle", "identity, campaign, one indicator per identifier (domain-name, url and user-account patterns; x-posbon-phone, x-posbon-iban, x-posbon-wallet and x-posbon-card custom types where STIX has none), indicates relationships. Audited (campaign.export).",
            authed(json!({ "200": { "description": "STIX 2.1 bundle", "content": { "application/stix+json;version=2.1": { "schema": { "type": "object" } } } }, "404": err("no such campaign touching the caller's scope") }), false)),
            vec![campaign_id], None) }
    })
}
