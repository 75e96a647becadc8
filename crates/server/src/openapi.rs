//! The OpenAPI 3.1 document, written by hand. Each operation here must match a route that
//! [`crate::router`] registers, and every registered route must be here: a test checks both.
use serde_json::{Value, json};

fn err(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok_json(desc: &str, schema: Value) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": schema } } })
}

fn body(schema_ref: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema_ref}") } } } })
}

fn id_param(what: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": format!("the {what}'s id"), "schema": { "type": "integer", "minimum": 1 } })
}

fn query_int(name: &str, desc: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "integer", "minimum": 1 } })
}

/// The responses every authenticated operation may give, besides its own.
fn authed(mut responses: Value, changes_state: bool) -> Value {
    let r = responses.as_object_mut().expect("responses object");
    r.insert("401".into(), err("not logged in, or the session expired"));
    r.insert(
        "403".into(),
        err(if changes_state {
            "the role may not do this, or the X-CSRF-Token header is missing or wrong"
        } else {
            "the role may not do this"
        }),
    );
    responses
}

fn op(summary: &str, description: &str, responses: Value) -> Value {
    json!({ "summary": summary, "description": description, "responses": responses })
}

fn secured(mut o: Value, params: Vec<Value>, request: Option<Value>) -> Value {
    let m = o.as_object_mut().expect("operation object");
    m.insert("security".into(), json!([{ "session": [] }]));
    if !params.is_empty() {
        m.insert("parameters".into(), Value::Array(params));
    }
    if let Some(b) = request {
        m.insert("requestBody".into(), b);
    }
    o
}

/// The document served at `/openapi.json`.
pub fn document() -> Value {
    let any = json!({});
    let obj = json!({ "type": "object" });
    let incident_ref = json!({ "$ref": "#/components/schemas/Incident" });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "posbon",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Public-safety operations for mahallas: the review queue of camera events, digital incident reports and the audit log. Log in with POST /api/login; it sets an HttpOnly session cookie and returns a csrf_token that every POST must send as the X-CSRF-Token header. Records outside the caller's scope answer 404. Every error is {\"error\", \"fix\"}."
        },
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE,
                    "description": "Set by POST /api/login. State-changing requests also need the X-CSRF-Token header." }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error", "fix"], "properties": {
                    "error": { "type": "string", "description": "what went wrong" },
                    "fix": { "type": "string", "description": "what to do about it" } } },
                "Login": { "type": "object", "required": ["username", "password"], "additionalProperties": false, "properties": {
                    "username": { "type": "string" }, "password": { "type": "string" } } },
                "Review": { "type": "object", "required": ["verdict"], "additionalProperties": false, "properties": {
                    "verdict": { "enum": ["confirm", "dismiss"] },
                    "reason": { "enum": domain::DismissReason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(), "description": "needed to dismiss" },
                    "note": { "type": "string", "description": "needed with reason other" },
                    "category": { "enum": domain::Category::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), "description": "the new incident's category when confirming (default other)" } } },
                "NewIncident": { "type": "object", "required": ["category", "source", "occurred_at", "mahalla"], "additionalProperties": false, "properties": {
                    "category": { "enum": domain::Category::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>() },
                    "source": { "enum": ["public", "patrol", "inspector"] },
                    "occurred_at": { "type": "string", "format": "date-time", "description": "UTC, e.g. 2024-05-01T09:30:00.000000Z" },
                    "mahalla": { "type": "integer" },
                    "point": { "type": "object", "properties": { "lon": { "type": "number" }, "lat": { "type": "number" } } },
                    "affected": { "type": "object", "properties": { "minor": { "type": "boolean" }, "youth": { "type": "boolean" }, "woman": { "type": "boolean" } } },
                    "narrative": { "type": "string", "maxLength": domain::incident::MAX_NARRATIVE_CHARS } } },
                "StatusChange": { "type": "object", "required": ["to"], "additionalProperties": false, "properties": {
                    "to": { "enum": domain::Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>() },
                    "assignee": { "type": "integer", "description": "a user id; needed for assigned and in_progress unless already set" },
                    "note": { "type": "string" } } },
                "Incident": { "type": "object", "description": "domain::Incident: id, category, source, status, occurred_at, reported_at, mahalla, point, affected, narrative, assignee, event, created_by, updated_at" }
            }
        },
        "paths": {
            "/healthz": { "get": op("Liveness and database check", "No login.", json!({
                "200": ok_json("the server and its database answer", obj.clone()), "500": err("the database does not answer") })) },
            "/metrics": { "get": op("Prometheus metrics", "Request counts by route and status, latency histograms. Text exposition format. No login.", json!({
                "200": { "description": "metrics", "content": { "text/plain": { "schema": { "type": "string" } } } } })) },
            "/openapi.json": { "get": op("This document", "No login.", json!({ "200": ok_json("OpenAPI 3.1", obj.clone()) })) },
            "/api/login": { "post": {
                "summary": "Log in",
                "description": "Sets the session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token. At most 5 attempts a minute per username and client address. Audited.",
                "requestBody": body("Login"),
                "responses": {
                    "200": ok_json("logged in: {user, csrf_token, expires_at}", obj.clone()),
                    "400": err("malformed body"), "401": err("wrong username or password"),
                    "413": err("body too large"), "429": err("too many attempts") } } },
            "/api/logout": { "post": secured(op("Log out", "Ends the session. Needs X-CSRF-Token.", authed(json!({ "200": ok_json("logged out", obj.clone()) }), true)), vec![], None) },
            "/api/me": { "get": secured(op("The logged-in user", "Any role.", authed(json!({ "200": ok_json("the user", obj.clone()) }), false)), vec![], None) },
            "/api/events/pending": { "get": secured(op("Review queue", "Events without a verdict within the caller's scope, oldest first. Roles: admin, operator.",
                authed(json!({ "200": ok_json("{events: [...]}", obj.clone()), "400": err("bad query parameter") }), false)),
                vec![query_int("limit", "at most this many (1..500, default 50)")], None) },
            "/api/events/{id}/review": { "post": secured(op("Confirm or dismiss an event", "A confirmation opens an incident (status new, source camera); a dismissal needs a reason. Roles: admin, operator. Audited.",
                authed(json!({ "200": ok_json("{review, incident}", obj.clone()), "400": err("malformed body or verdict"),
                    "404": err("no such event within the caller's scope"), "409": err("the event already has a verdict") }), true)),
                vec![id_param("event")], Some(body("Review"))) },
            "/api/incidents": {
                "get": secured(op("List incidents", "Within the caller's scope, newest first; page on with before = next_before. Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("{incidents: [...], next_before}", obj.clone()), "400": err("bad query parameter") }), false)),
                    vec![query_int("limit", "page size (1..500, default 50)"), query_int("before", "only ids below this")], None),
                "post": secured(op("Record an incident", "Sources public, patrol or inspector, in a mahalla within the caller's scope. Roles: admin, operator, inspector. Audited.",
                    authed(json!({ "201": ok_json("the incident", incident_ref.clone()), "400": err("malformed body or invalid values") }), true)),
                    vec![], Some(body("NewIncident"))) },
            "/api/incidents/{id}": { "get": secured(op("One incident with its history", "404 outside the caller's scope. Roles: admin, operator, inspector, analyst.",
                authed(json!({ "200": ok_json("{incident, history}", obj.clone()), "404": err("no such incident within the caller's scope") }), false)),
                vec![id_param("incident")], None) },
            "/api/incidents/{id}/status": { "post": secured(op("Change an incident's status", "Allowed changes follow domain::Status::next; each is kept in the history and audited. Roles: admin, operator, inspector.",
                authed(json!({ "200": ok_json("{incident, history}", obj.clone()), "400": err("malformed body or a change the life cycle does not allow"),
                    "404": err("no such incident within the caller's scope") }), true)),
                vec![id_param("incident")], Some(body("StatusChange"))) },
            "/api/incidents.csv": { "get": secured(op("Export incidents as CSV", "Every incident within the caller's scope. Audited. Roles: admin, operator, inspector, analyst.",
                authed(json!({ "200": { "description": "CSV", "content": { "text/csv": { "schema": { "type": "string" } } } } }), false)), vec![], None) },
            "/api/incidents.geojson": { "get": secured(op("Export incidents as GeoJSON", "A FeatureCollection of every incident within the caller's scope. Audited. Roles: admin, operator, inspector, analyst.",
                authed(json!({ "200": { "description": "GeoJSON", "content": { "application/geo+json": { "schema": any } } } }), false)), vec![], None) },
            "/api/audit": { "get": secured(op("Read the audit log", "In seq order after the given seq. Roles: admin, auditor, with the national scope.",
                authed(json!({ "200": ok_json("{entries: [...]}", obj), "400": err("bad query parameter") }), false)),
                vec![query_int("after", "only entries with a greater seq"), query_int("limit", "page size (1..500, default 50)")], None) }
        }
    });
    add_evidence_and_console(&mut doc);
    doc
}

/// The evidence endpoint and the console's HTML pages (listed by [`crate::console::endpoints`]).
fn add_evidence_and_console(doc: &mut Value) {
    let paths = doc["paths"].as_object_mut().expect("paths object");
    paths.insert(
        "/api/events/{id}/evidence/{n}".into(),
        json!({ "get": secured(op("A redacted evidence image of an event",
            "The n-th (from 0) redacted image named by the event's payload, from its camera's evidence folder; never an unredacted original. Roles: admin and operator for events within their scope; inspector and analyst only for an event confirmed into an incident within their scope. Audited (evidence.view).",
            authed(json!({
                "200": { "description": "the image", "content": { "image/jpeg": { "schema": { "type": "string", "format": "binary" } }, "image/png": { "schema": { "type": "string", "format": "binary" } } } },
                "404": err("no such event or image within the caller's scope, or the file is no longer stored") }), false)),
            vec![id_param("event"), json!({ "name": "n", "in": "path", "required": true, "description": "the image's index in the payload, from 0", "schema": { "type": "integer", "minimum": 0 } })], None) }),
    );
    for e in crate::console::endpoints() {
        let entry = paths.entry(e.path).or_insert_with(|| json!({}));
        let html = json!({ "text/html": { "schema": { "type": "string" } } });
        let responses = if e.method == "POST" {
            json!({ "303": { "description": "done: redirects to the page that shows the result" },
                    "200": { "description": "the page again, with the result (e.g. a password shown once)", "content": html },
                    "400": { "description": "the form's values were refused; the page says why", "content": html },
                    "403": { "description": "the role may not do this, or the form's _csrf token is missing or wrong", "content": html } })
        } else {
            json!({ "200": { "description": "an HTML page", "content": html },
                    "303": { "description": "not logged in: redirects to /login" } })
        };
        entry[e.method.to_ascii_lowercase()] = json!({
            "summary": e.summary,
            "description": "Console (server-rendered HTML; see docs/design/011-console.md). Forms are application/x-www-form-urlencoded and carry the session's CSRF token as _csrf.",
            "tags": ["console"],
            "responses": responses,
        });
    }
}
