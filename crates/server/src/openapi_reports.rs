//! The OpenAPI description of citizen reports and evidence access requests, merged into
//! [`crate::openapi::document`].
use serde_json::{Value, json};

use crate::openapi::{authed, body, err, id_param, ok_json, op, query_int, secured};

fn words<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| f(*x)).collect()
}

fn query_word(name: &str, desc: &str, values: Vec<&str>) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "enum": values } })
}

fn html(desc: &str) -> Value {
    json!({ "description": desc, "content": { "text/html": { "schema": { "type": "string" } } } })
}

pub(crate) fn schemas() -> Value {
    let categories = words(domain::Category::ALL, |c| c.as_str());
    let reasons = words(domain::RejectReason::ALL, |r| r.as_str());
    let report_statuses = words(domain::ReportStatus::ALL, |s| s.as_str());
    let affected = json!({ "type": "object", "properties": {
        "minor": { "type": "boolean" }, "youth": { "type": "boolean" }, "woman": { "type": "boolean" } } });
    let point = json!({ "type": "object", "required": ["lon", "lat"], "properties": {
        "lon": { "type": "number" }, "lat": { "type": "number" } } });
    let user_ref = json!({ "type": "object", "properties": { "id": { "type": "integer" }, "username": { "type": ["string", "null"] } } });
    json!({
        "NewReport": { "type": "object", "required": ["category", "narrative", "occurred_at"], "additionalProperties": false,
            "description": "A citizen's report. Give the mahalla, a point, or both. Also accepted as an HTML form (application/x-www-form-urlencoded) with the fields of the /report page.",
            "properties": {
                "category": { "enum": categories },
                "narrative": { "type": "string", "minLength": 1, "maxLength": domain::report::MAX_REPORT_NARRATIVE_CHARS, "description": "what happened" },
                "occurred_at": { "type": "string", "format": "date-time" },
                "mahalla": { "type": "integer", "description": "a mahalla id from the list on /report" },
                "point": point,
                "affected": affected,
                "anonymous": { "type": "boolean", "description": "no contact is stored (and no report stores the sender's address)" },
                "contact": { "type": "string", "description": "a phone number or e-mail address; not with anonymous" } } },
        "ReportReceipt": { "type": "object", "properties": {
            "code": { "type": "string", "example": "R-7KQ4M-2XD9P" },
            "status": { "enum": report_statuses },
            "status_url": { "type": "string" },
            "already_received": { "type": "boolean", "description": "the same report was sent within 10 minutes; this is its code" } } },
        "PublicReportStatus": { "type": "object", "properties": {
            "code": { "type": "string" }, "status": { "enum": report_statuses }, "status_text": { "type": "string" },
            "reason": { "enum": reasons.iter().map(|r| json!(r)).chain([Value::Null]).collect::<Vec<_>>() },
            "reason_text": { "type": ["string", "null"] },
            "submitted_on": { "type": "string", "format": "date" } } },
        "Report": { "type": "object", "description": "A report as moderators see it. contact appears only in GET /api/reports/{id} (audited).",
            "properties": {
                "id": { "type": "integer" }, "code": { "type": "string" }, "category": { "enum": categories },
                "narrative": { "type": "string" }, "occurred_at": { "type": "string", "format": "date-time" },
                "mahalla": { "type": ["integer", "null"] }, "point": { "oneOf": [point, { "type": "null" }] },
                "affected": affected, "anonymous": { "type": "boolean" }, "has_contact": { "type": "boolean" },
                "contact": { "type": "string" },
                "status": { "enum": report_statuses }, "reject_reason": { "enum": reasons.iter().map(|r| json!(r)).chain([Value::Null]).collect::<Vec<_>>() },
                "moderator": { "type": ["integer", "null"] }, "moderation_note": { "type": "string" },
                "incident": { "type": ["integer", "null"] },
                "submitted_at": { "type": "string", "format": "date-time" }, "updated_at": { "type": "string", "format": "date-time" } } },
        "Moderation": { "type": "object", "required": ["decision"], "additionalProperties": false, "properties": {
            "decision": { "enum": ["review", "accept", "reject"] },
            "category": { "enum": categories, "description": "accept only: the incident's category (default: the citizen's)" },
            "mahalla": { "type": "integer", "description": "accept only: the incident's mahalla (needed when the report names none; must be in scope)" },
            "reason": { "enum": reasons, "description": "reject only (required): the public reason" },
            "note": { "type": "string", "description": "internal, never shown publicly" } } },
        "NewAccessRequest": { "type": "object", "required": ["event", "case_ref", "reason"], "additionalProperties": false, "properties": {
            "event": { "type": "integer" },
            "case_ref": { "type": "string", "minLength": 1, "maxLength": domain::evidence::MAX_CASE_REF_CHARS, "description": "letters, digits, spaces and - / . _ : # №" },
            "reason": { "type": "string", "minLength": 1, "maxLength": domain::evidence::MAX_ACCESS_REASON_CHARS } } },
        "AccessDecision": { "type": "object", "required": ["decision"], "additionalProperties": false, "properties": {
            "decision": { "enum": ["approve", "deny", "revoke"] },
            "hours": { "type": "integer", "minimum": 1, "maximum": domain::evidence::MAX_ACCESS_HOURS, "description": "approve only; default 24" } } },
        "AccessRequest": { "type": "object", "properties": {
            "id": { "type": "integer" }, "event": { "type": ["integer", "null"], "description": "null once retention deleted the event" },
            "camera": { "type": "integer" }, "mahalla": { "type": "integer" },
            "case_ref": { "type": "string" }, "reason": { "type": "string" },
            "requester": user_ref, "requested_at": { "type": "string", "format": "date-time" },
            "status": { "enum": ["requested", "approved", "denied", "revoked"] },
            "shown_status": { "enum": ["requested", "approved", "denied", "revoked", "expired"] },
            "approver": { "oneOf": [user_ref, { "type": "null" }] },
            "decided_at": { "type": ["string", "null"] }, "expires_at": { "type": ["string", "null"] },
            "revoked_by": { "type": ["integer", "null"] }, "revoked_at": { "type": ["string", "null"] },
            "originals": { "type": "integer", "description": "how many originals the event has: n in /original/{n} is 0..originals-1" },
            "can_decide": { "type": "boolean" }, "can_revoke": { "type": "boolean" }, "can_open": { "type": "boolean" } } }
    })
}

pub(crate) fn paths() -> Value {
    let report_ref = json!({ "$ref": "#/components/schemas/Report" });
    let access_ref = json!({ "$ref": "#/components/schemas/AccessRequest" });
    let too_many = err(
        "too many reports from this address, or from everyone (Retry-After says when to try again)",
    );
    json!({
        "/public/reports": { "post": {
            "summary": "Send a citizen report (no login)",
            "description": "JSON or an HTML form. Answers a reference code. The same report sent again within 10 minutes is stored once and answers the same code (200 instead of 201). Limited per client address and overall. The address is never stored. A form gets an HTML page back.",
            "requestBody": body("NewReport"),
            "responses": {
                "201": ok_json("stored", json!({ "$ref": "#/components/schemas/ReportReceipt" })),
                "200": ok_json("the same report had already been received", json!({ "$ref": "#/components/schemas/ReportReceipt" })),
                "400": err("malformed or invalid report"), "413": err("body over 32 KiB"),
                "415": err("neither JSON nor a form"), "429": too_many } } },
        "/public/reports/{code}": { "get": {
            "summary": "A citizen report's status (no login)",
            "description": "Status and, when not accepted, the public reason; nothing internal. Codes are read forgivingly (case, I/L/O, spaces). Limited to 60 look-ups a minute per address.",
            "parameters": [{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" }, "example": "R-7KQ4M-2XD9P" }],
            "responses": {
                "200": ok_json("the status", json!({ "$ref": "#/components/schemas/PublicReportStatus" })),
                "400": err("not a code"), "404": err("no report has this code"), "429": err("too many look-ups") } } },
        "/report": { "get": {
            "summary": "The public report form (HTML, no JavaScript)",
            "description": "Step 1 picks the district (skipped when there is only one), step 2 is the form, which posts to /public/reports.",
            "parameters": [
                { "name": "lang", "in": "query", "required": false, "schema": { "enum": ["uz", "ru", "en"] } },
                { "name": "district", "in": "query", "required": false, "schema": { "type": "integer" } }],
            "responses": { "200": html("the page") } } },
        "/report/status": { "get": {
            "summary": "The public status page (HTML)",
            "description": "A form for the code; with ?code= it shows the status.",
            "parameters": [
                { "name": "lang", "in": "query", "required": false, "schema": { "enum": ["uz", "ru", "en"] } },
                { "name": "code", "in": "query", "required": false, "schema": { "type": "string" } }],
            "responses": { "200": html("the page"), "400": html("not a code"), "404": html("no such report"), "429": html("too many look-ups") } } },
        "/api/reports": { "get": secured(op("Citizen reports to moderate",
            "Within the caller's scope (a report without a mahalla: national scope only), oldest first; page on with after = next_after. Contacts are not included. Roles: admin, operator, inspector.",
            authed(json!({ "200": ok_json("{reports: [Report], next_after}", json!({ "type": "object", "properties": {
                "reports": { "type": "array", "items": report_ref.clone() }, "next_after": { "type": ["integer", "null"] } } })),
                "400": err("bad query parameter") }), false)),
            vec![query_word("status", "which reports (default pending = received and under_review)", vec!["pending", "received", "under_review", "accepted", "rejected", "all"]),
                 query_int("after", "only ids above this"), query_int("limit", "page size (1..500, default 50)")], None) },
        "/api/reports/{id}": { "get": secured(op("One citizen report, with its contact",
            "404 outside the caller's scope. Showing a contact is audited (report.contact_view). Roles: admin, operator, inspector.",
            authed(json!({ "200": ok_json("{report: Report}", json!({ "type": "object", "properties": { "report": report_ref.clone() } })),
                "404": err("no such report within the caller's scope") }), false)),
            vec![id_param("report")], None) },
        "/api/reports/{id}/moderate": { "post": secured(op("Moderate a citizen report",
            "review (received -> under_review), accept (records an incident, source public, in the report's mahalla; the incident's reported_at is when the report was sent) or reject with a public reason. Audited (report.moderate). Roles: admin, operator, inspector.",
            authed(json!({ "200": ok_json("{report, incident}", json!({ "type": "object", "properties": {
                "report": report_ref, "incident": { "oneOf": [{ "$ref": "#/components/schemas/Incident" }, { "type": "null" }] } } })),
                "400": err("malformed body"), "404": err("no such report within the caller's scope"),
                "409": err("the report was already decided") }), true)),
            vec![id_param("report")], Some(body("Moderation"))) },
        "/api/access-requests": {
            "get": secured(op("Access requests for sealed originals",
                "{pending, mine}: pending holds, for approvers (admin, auditor), the requests within their scope with the given status (default requested), oldest first; mine holds the caller's own requests (admin, operator, inspector, analyst), newest first.",
                authed(json!({ "200": ok_json("{pending: [AccessRequest], mine: [AccessRequest]}", json!({ "type": "object", "properties": {
                    "pending": { "type": "array", "items": access_ref.clone() }, "mine": { "type": "array", "items": access_ref.clone() } } })),
                    "400": err("bad query parameter") }), false)),
                vec![query_word("status", "status of the pending list (default requested)", vec!["requested", "approved", "denied", "revoked", "all"]),
                     query_int("limit", "at most this many per list (1..500, default 100)")], None),
            "post": secured(op("Ask to open an event's sealed originals",
                "Names a case and a reason; a second person (admin or auditor covering the event's mahalla) must approve it. Audited (evidence.access_request). Roles: admin, operator, inspector, analyst; the event must be within scope.",
                authed(json!({ "201": ok_json("the request", access_ref.clone()), "400": err("malformed body, bad case reference, or the event has no sealed original"),
                    "404": err("no such event within the caller's scope") }), true)),
                vec![], Some(body("NewAccessRequest"))) },
        "/api/access-requests/{id}/decision": { "post": secured(op("Approve, deny or revoke an access request",
            "approve (for 1..72 hours, default 24) or deny: admin or auditor whose scope covers the event, never the requester. revoke: the same approvers, or the requester. The approval runs from the server's clock. Audited (evidence.access_decision).",
            authed(json!({ "200": ok_json("the request", access_ref), "400": err("malformed body or hours out of range"),
                "404": err("no such request visible to the caller"), "409": err("already decided") }), true)),
            vec![id_param("access request")], Some(body("AccessDecision"))) },
        "/api/access-requests/{id}/original/{n}": { "get": secured(op("Open a sealed original",
            "The n-th original (from 0) of the request's event, decrypted: only for the requester, while the approval stands and has not expired. Served as image/jpeg with Cache-Control: no-store. Audited (evidence.original_view) before it is sent.",
            authed(json!({ "200": { "description": "the unredacted JPEG", "content": { "image/jpeg": { "schema": { "type": "string", "format": "binary" } } } },
                "404": err("no such request, original or file"), "410": err("the approval expired"),
                "500": err("the sealed file does not open (altered, or another key)"), "503": err("the server was started without --evidence-key") }), false)),
            vec![id_param("access request"), json!({ "name": "n", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 0 } })], None) }
    })
}
