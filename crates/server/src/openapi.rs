//! The OpenAPI 3.1 document, written by hand. Each operation here must match a route that
//! [`crate::router`] registers, and every registered route must be here: a test checks both.
use serde_json::{Value, json};

pub(crate) fn err(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

pub(crate) fn ok_json(desc: &str, schema: Value) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": schema } } })
}

pub(crate) fn body(schema_ref: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema_ref}") } } } })
}

pub(crate) fn id_param(what: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": format!("the {what}'s id"), "schema": { "type": "integer", "minimum": 1 } })
}

pub(crate) fn query_int(name: &str, desc: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "integer", "minimum": 1 } })
}

/// The responses every authenticated operation may give, besides its own.
pub(crate) fn authed(mut responses: Value, changes_state: bool) -> Value {
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

pub(crate) fn op(summary: &str, description: &str, responses: Value) -> Value {
    json!({ "summary": summary, "description": description, "responses": responses })
}

pub(crate) fn secured(mut o: Value, params: Vec<Value>, request: Option<Value>) -> Value {
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
    let mut doc = base_document();
    let paths = doc["paths"].as_object_mut().expect("paths object");
    for (path, item) in crate::geography::openapi_paths() {
        paths.insert(path.into(), item);
    }
    for (path, item) in crate::attachments::openapi_paths() {
        paths.insert(path.into(), item);
    }
    for (path, item) in crate::period_reports::openapi_paths() {
        paths.insert(path.into(), item);
    }
    for (path, item) in crate::analysis::openapi_paths() {
        paths.insert(path.into(), item);
    }
    for (path, item) in crate::patrols::openapi_paths()
        .into_iter()
        .chain(crate::roadmaps::openapi_paths())
    {
        paths.insert(path.into(), item);
    }
    merge(
        &mut doc,
        crate::openapi_fraud::paths(),
        crate::openapi_fraud::schemas(),
    );
    merge(&mut doc, json!({}), crate::patrols::openapi_schemas());
    merge(&mut doc, json!({}), crate::roadmaps::openapi_schemas());
    crate::openapi_payee::add(&mut doc);
    doc
}

fn base_document() -> Value {
    let any = json!({});
    let obj = json!({ "type": "object" });
    let incident_ref = json!({ "$ref": "#/components/schemas/Incident" });
    let camera_ref = json!({ "$ref": "#/components/schemas/Camera" });
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
                "Incident": { "type": "object", "description": "domain::Incident: id, category, source, status, occurred_at, reported_at, mahalla, point, affected, narrative, assignee, event, created_by, updated_at" },
                "NewCamera": { "type": "object", "required": ["name", "url", "mahalla"], "additionalProperties": false, "properties": {
                    "name": { "type": "string", "maxLength": 200 },
                    "url": { "type": "string", "description": "rtsp://USER:PASSWORD@HOST:PORT/PATH (or rtsps, rtmp, udp, srt), or a video file: file:/ABSOLUTE/PATH (played at its own frame rate, stopping at its end)" },
                    "mahalla": { "type": "integer" },
                    "config_toml": { "type": "string", "description": "the pipeline's camera TOML ([detector], [motion], [tracker], [evidence], [[zones]], [[lines]], [[rules]]; see config/demo-camera.toml); [camera] may be left out. Coordinates are 0..1 of the picture's width and height" },
                    "position": { "type": "object", "properties": { "lon": { "type": "number" }, "lat": { "type": "number" } } } } },
                "CameraUpdate": { "type": "object", "additionalProperties": false, "description": "each field given replaces the stored one; position null removes it; a url sent back with its password still *** keeps the stored one", "properties": {
                    "name": { "type": "string" }, "url": { "type": "string" }, "mahalla": { "type": "integer" }, "config_toml": { "type": "string" },
                    "position": { "type": ["object", "null"], "properties": { "lon": { "type": "number" }, "lat": { "type": "number" } } } } },
                "Enabled": { "type": "object", "required": ["enabled"], "additionalProperties": false, "properties": { "enabled": { "type": "boolean" } } },
                "Camera": { "type": "object", "description": "id, name, url (password shown as ***), mahalla, position ({lon, lat} or null), config_toml, enabled, created_at, health: null or {state: starting|online|offline|stopped|error, fps, frames, last_frame_at, last_error, updated_at}" }
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
            "/api/incidents/{id}": { "get": secured(op("One incident with its history", "With its attachments (each with the url to download it). 404 outside the caller's scope. Roles: admin, operator, inspector, analyst.",
                authed(json!({ "200": ok_json("{incident, history, attachments}", obj.clone()), "404": err("no such incident within the caller's scope") }), false)),
                vec![id_param("incident")], None) },
            "/api/incidents/{id}/status": { "post": secured(op("Change an incident's status", "Allowed changes follow domain::Status::next; each is kept in the history and audited. Roles: admin, operator, inspector.",
                authed(json!({ "200": ok_json("{incident, history}", obj.clone()), "400": err("malformed body or a change the life cycle does not allow"),
                    "404": err("no such incident within the caller's scope") }), true)),
                vec![id_param("incident")], Some(body("StatusChange"))) },
            "/api/incidents.csv": { "get": secured(op("Export incidents as CSV", "Every incident within the caller's scope; the last column, attachment_count, counts its attached files (the GeoJSON export has the same property). Audited. Roles: admin, operator, inspector, analyst.",
                authed(json!({ "200": { "description": "CSV", "content": { "text/csv": { "schema": { "type": "string" } } } } }), false)), vec![], None) },
            "/api/incidents.geojson": { "get": secured(op("Export incidents as GeoJSON", "A FeatureCollection of every incident within the caller's scope. Audited. Roles: admin, operator, inspector, analyst.",
                authed(json!({ "200": { "description": "GeoJSON", "content": { "application/geo+json": { "schema": any } } } }), false)), vec![], None) },
            "/api/cameras": {
                "get": secured(op("List cameras with their health", "The cameras within the caller's scope, by id: {cameras: [Camera]}. Health is the workers' live view, else the last recorded. Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("{cameras: [...]}", obj.clone()) }), false)), vec![], None),
                "post": secured(op("Register a camera", "In a mahalla within the caller's scope; the URL and config_toml are checked (a TOML error names its line) and the camera's pipeline starts at once. Roles: admin, operator. Audited (camera.create).",
                    authed(json!({ "201": ok_json("the camera", camera_ref.clone()), "400": err("malformed body, bad URL or bad config_toml"),
                        "503": err("the server runs no camera workers") }), true)), vec![], Some(body("NewCamera"))) },
            "/api/cameras/{id}": {
                "get": secured(op("One camera with its health", "404 outside the caller's scope. Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("the camera", camera_ref.clone()), "404": err("no such camera within the caller's scope") }), false)), vec![id_param("camera")], None),
                "put": secured(op("Edit a camera", "Name, URL, mahalla (within scope), config_toml, position; the pipeline restarts with the new settings. Roles: admin, operator. Audited (camera.update).",
                    authed(json!({ "200": ok_json("the camera", camera_ref.clone()), "400": err("malformed body, bad URL or bad config_toml"),
                        "404": err("no such camera within the caller's scope"), "503": err("the server runs no camera workers") }), true)), vec![id_param("camera")], Some(body("CameraUpdate"))) },
            "/api/cameras/{id}/enabled": { "post": secured(op("Switch a camera on or off", "Starts or stops its pipeline; settings and events are kept. Roles: admin, operator. Audited (camera.enable, camera.disable).",
                authed(json!({ "200": ok_json("the camera", camera_ref), "404": err("no such camera within the caller's scope"), "503": err("the server runs no camera workers") }), true)),
                vec![id_param("camera")], Some(body("Enabled"))) },
            "/api/cameras/{id}/snapshot.jpg": { "get": secured(op("A redacted snapshot of the camera's view", "The latest frame, redacted as evidence is (faces and every person's head blurred; never an unredacted image), for drawing zones and lines. Not stored. Roles: admin, operator. Audited (camera.snapshot).",
                authed(json!({ "200": { "description": "JPEG; X-Frame-Time gives the frame's time", "content": { "image/jpeg": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": err("no such camera within the caller's scope"), "503": err("the camera has delivered no frame yet, or the server runs no camera workers") }), false)),
                vec![id_param("camera")], None) },
            "/api/stats/precision": { "get": secured(op("Precision per rule, per camera and over time", "Of the reviewed events in [from, to) from cameras within the caller's scope: confirmed, dismissed, precision with its 95% Wilson interval (low, high; null with nothing reviewed) and dismissals by reason; totals by_rule, by_camera, by_camera_rule and a series per period. Roles: admin, operator, analyst.",
                authed(json!({ "200": ok_json("{from, to, period, scope, method, total, by_rule, by_camera, by_camera_rule, series}", obj.clone()), "400": err("bad query parameter") }), false)),
                vec![
                    json!({ "name": "from", "in": "query", "required": false, "description": "UTC day (2024-05-01) or RFC 3339 time; default 84 days before to", "schema": { "type": "string" } }),
                    json!({ "name": "to", "in": "query", "required": false, "description": "exclusive; UTC day or RFC 3339 time; default now", "schema": { "type": "string" } }),
                    json!({ "name": "period", "in": "query", "required": false, "description": "day or week (ISO, Monday first; default)", "schema": { "enum": ["day", "week"] } }),
                ], None) },
            "/api/audit": { "get": secured(op("Read the audit log", "In seq order after the given seq. Roles: admin, auditor, with the national scope.",
                authed(json!({ "200": ok_json("{entries: [...]}", obj), "400": err("bad query parameter") }), false)),
                vec![query_int("after", "only entries with a greater seq"), query_int("limit", "page size (1..500, default 50)")], None) }
        }
    });
    merge(
        &mut doc,
        crate::openapi_reports::paths(),
        crate::openapi_reports::schemas(),
    );
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
    // A camera's page (docs/design/016-zone-editor.md): outside the scope like a missing camera;
    // its editor's script is not HTML.
    let page = "the page; admins and operators get the settings form and the zone editor over the redacted snapshot, other readers the same facts read-only";
    let html = json!({ "text/html": { "schema": { "type": "string" } } });
    paths["/console/cameras/{id}"]["get"]["responses"]["200"] =
        json!({ "description": page, "content": html });
    for method in ["get", "post"] {
        paths["/console/cameras/{id}"][method]["responses"]["404"] =
            json!({ "description": "no such camera within the caller's scope", "content": html });
    }
    paths["/console/assets/zones.js"]["get"]["responses"] = json!({ "200": { "description": "the zone editor's script", "content": { "text/javascript": { "schema": { "type": "string" } } } } });
}

/// Adds `paths` and `schemas` (JSON objects) to the document.
fn merge(doc: &mut Value, paths: Value, schemas: Value) {
    for (section, extra) in [("paths", paths), ("schemas", schemas)] {
        let target = if section == "paths" {
            doc.get_mut("paths")
        } else {
            doc.get_mut("components").and_then(|c| c.get_mut("schemas"))
        };
        if let (Some(Value::Object(t)), Value::Object(e)) = (target, extra) {
            t.extend(e);
        }
    }
}
