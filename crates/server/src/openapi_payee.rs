//! The OpenAPI description of the payee check and of bank keys, added to
//! [`crate::openapi::document`].
use serde_json::{Value, json};

use crate::openapi::{authed, body, err, id_param, ok_json, op, secured};

/// Adds the paths, schemas and the bank key's security scheme to `doc`.
pub(crate) fn add(doc: &mut Value) {
    doc["components"]["securitySchemes"]["bank_key"] = json!({
        "type": "http", "scheme": "bearer",
        "description": "A bank API key (pbk_ and 64 hex digits), issued once by an administrator (POST /api/bank-keys, the console's Bank API keys page, or posbon bank-keys create)."
    });
    if let Some(s) = doc["components"]["schemas"].as_object_mut() {
        s.extend(schemas());
    }
    if let Some(p) = doc["paths"].as_object_mut() {
        p.extend(paths());
    }
}

fn schemas() -> serde_json::Map<String, Value> {
    let ts = json!({ "type": ["string", "null"], "format": "date-time" });
    let key = json!({ "type": "object", "properties": {
        "id": { "type": "integer" }, "bank": { "type": "string" },
        "prefix": { "type": "string", "description": "the key's first 12 characters, to tell keys apart" },
        "rate_per_second": { "type": "integer" },
        "created_by": { "type": "string" }, "created_at": { "type": "string", "format": "date-time" },
        "revoked_by": { "type": ["string", "null"] }, "revoked_at": ts,
        "status": { "enum": ["active", "revoked"] },
        "checks_since_start": { "type": "integer", "description": "checks admitted with this key since the server started" },
        "limited_since_start": { "type": "integer", "description": "requests refused with 429 since the server started" } } });
    let Value::Object(m) = json!({
        "PayeeCheck": { "type": "object", "required": ["kind", "value"], "additionalProperties": false, "properties": {
            "kind": { "enum": ["card", "phone", "iban"] },
            "value": { "type": "string", "maxLength": crate::payee::MAX_VALUE_CHARS,
                "description": "as the customer typed it: a card's 13-19 digits, an Uzbek phone number in any usual form or a foreign one with +, an IBAN; spaces and dashes are fine" } } },
        "PayeeVerdict": { "type": "object", "properties": {
            "verdict": { "enum": ["reported", "not_reported"] },
            "kind": { "enum": ["card", "phone", "iban"] },
            "checked": { "type": "string", "description": "the normal form checked: E.164 phone, IBAN, or a card's BIN…last4 (never the whole number)" },
            "reports": { "type": "integer", "description": "victims' reports that named this payee" },
            "last_reported": ts,
            "days_since": { "type": ["integer", "null"], "description": "whole days since the latest report" },
            "campaign_reports": { "type": "integer", "description": "reports in the campaign (reports linked by shared indicators) this payee belongs to" },
            "campaign_loss_tiyin": { "type": "integer", "description": "money that campaign's victims reported lost, in tiyin (1/100 so'm)" },
            "advice": { "type": "string" } } },
        "NewBankKey": { "type": "object", "required": ["bank"], "additionalProperties": false, "properties": {
            "bank": { "type": "string", "minLength": 1, "maxLength": store::MAX_BANK_CHARS, "description": "the bank's name, as it should appear in the list and the audit log" },
            "rate_per_second": { "type": "integer", "minimum": 1, "maximum": store::MAX_BANK_KEY_RATE, "description": "checks per second (default 100); one second's worth may come at once" } } },
        "BankKey": key
    }) else {
        unreachable!("a JSON object literal")
    };
    m
}

fn paths() -> serde_json::Map<String, Value> {
    let key_ref = json!({ "$ref": "#/components/schemas/BankKey" });
    let Value::Object(m) = json!({
        "/api/payee-check": { "post": {
            "summary": "Check a payee before paying (banks)",
            "description": "For a bank's server: is this card, phone number or IBAN named in victims' fraud reports? Answers the reports, the latest report's date, and the size and loss of the campaign behind it, with advice; fast enough to sit inside a payment (in memory, no database round trip). Needs a bank API key; no session or CSRF token. Body at most 4 KiB. Limited per key (token bucket of the key's rate). Counted per key and per verdict in /metrics, not audited per call.",
            "security": [{ "bank_key": [] }],
            "requestBody": body("PayeeCheck"),
            "responses": {
                "200": ok_json("the verdict", json!({ "$ref": "#/components/schemas/PayeeVerdict" })),
                "400": err("malformed body, an unknown kind, or a value that is no valid card (Luhn), phone number or IBAN (mod 97); the message names the field"),
                "401": err("no Authorization: Bearer key, or an unknown or revoked key (the same answer for both)"),
                "413": err("body over 4 KiB"), "415": err("not JSON"),
                "429": err("over the key's rate; Retry-After says when to try again") } } },
        "/api/bank-keys": {
            "get": secured(op("Bank API keys", "Every key, revoked ones too, with its use since the server started; never the keys themselves. Role: admin with the national scope.",
                authed(json!({ "200": ok_json("{bank_keys: [BankKey]}", json!({ "type": "object", "properties": { "bank_keys": { "type": "array", "items": key_ref.clone() } } })) }), false)),
                vec![], None),
            "post": secured(op("Issue a bank API key", "The answer holds the key ({key, bank_key}); it is shown this once and posbon keeps only its SHA-256. Role: admin with the national scope. Audited (bank_key.create).",
                authed(json!({ "201": ok_json("{key, bank_key, note}", json!({ "type": "object", "properties": { "key": { "type": "string" }, "bank_key": key_ref.clone(), "note": { "type": "string" } } })),
                    "400": err("malformed body, a bad bank name or a rate out of range") }), true)),
                vec![], Some(body("NewBankKey"))) },
        "/api/bank-keys/{id}/revoke": { "post": secured(op("Revoke a bank API key", "The key stops working at once on this server, and within 30 seconds on any other server over the same database. Role: admin with the national scope. Audited (bank_key.revoke).",
            authed(json!({ "200": ok_json("{bank_key}", json!({ "type": "object", "properties": { "bank_key": key_ref } })),
                "404": err("no such key"), "409": err("the key was already revoked") }), true)),
            vec![id_param("bank key")], None) }
    }) else {
        unreachable!("a JSON object literal")
    };
    m
}
