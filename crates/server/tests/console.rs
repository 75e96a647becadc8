//! The console's pages over HTTP, on SQLite and PostgreSQL: redirects when logged out, the login
//! form (errors, rate limit, login CSRF), forms refused without the session's CSRF token, every
//! piece of user text escaped, roles and scopes exactly as in the API, users and the audit log.
mod common;
mod scene;

use common::{Client, Resp, TestDb, TestServer};
use domain::{CameraId, GeoPoint, IncidentId, NewCamera, NewEvent, NewUser, Role, Scope};
use serde_json::json;
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};

const PASSWORD: &str = "correct horse battery staple";
const HOSTILE: &str = "<script>alert(\"x\")</script> & 'quoted' <img src=x onerror=alert(1)>";

struct Fixture {
    server: TestServer,
    _data: tempfile::TempDir,
    camera: CameraId,
}

async fn setup(db: &TestDb) -> Fixture {
    server::demo::seed_geography(&db.store).await.unwrap();
    let hash = server::auth::hash_password(PASSWORD).unwrap();
    for (username, role, scope) in [
        ("admin", Role::Admin, Scope::National),
        ("operator", Role::Operator, Scope::District(DISTRICT)),
        ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
        ("inspector_b", Role::Inspector, Scope::Mahalla(MAHALLA_B)),
        ("analyst", Role::Analyst, Scope::Region(REGION)),
        ("auditor", Role::Auditor, Scope::National),
    ] {
        db.store
            .create_user(&NewUser {
                username: username.into(),
                display_name: format!("{username} {HOSTILE}"),
                password_hash: hash.clone(),
                role,
                scope,
            })
            .await
            .unwrap();
    }
    let cam = db
        .store
        .create_camera(&NewCamera {
            name: format!("gate {HOSTILE}"),
            url: "file:vtest.avi".into(),
            mahalla: MAHALLA_A,
            config_toml: String::new(),
            position: Some(GeoPoint {
                lon: 69.2405,
                lat: 41.3102,
            }),
        })
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = server::evidence_dir(data.path(), cam.id);
    std::fs::create_dir_all(dir.join("evidence")).unwrap();
    std::fs::write(dir.join("evidence/gate-f000001.jpg"), scene::jpeg()).unwrap();
    for k in 0..3 {
        db.store
            .insert_event(&NewEvent {
                camera: cam.id,
                rule: "loitering".into(),
                at: db.store.now().saturating_add_micros(-(3 - k) * 60_000_000),
                payload: json!({"kind": "loitering", "details": {"zone": format!("gate {HOSTILE}")},
                    "images": ["evidence/gate-f000001.jpg"]}),
            })
            .await
            .unwrap();
    }
    let config = server::Config {
        data_dir: data.path().to_owned(),
        ..server::Config::default()
    };
    Fixture {
        server: TestServer::start_with_config(&db.store, &config).await,
        _data: data,
        camera: cam.id,
    }
}

async fn logged_in(f: &Fixture, username: &str) -> Client {
    let mut c = f.server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

fn location(r: &Resp) -> &str {
    r.header("location").unwrap_or("")
}

/// A page as the console serves every page: HTML under the strict policy, with no inline
/// script or style and nothing fetched from elsewhere.
#[track_caller]
fn html_page(r: Resp, status: u16) -> String {
    let r = r.expect(status);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = r.header("content-security-policy").unwrap_or("");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "CSP {csp:?} lacks {part}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let body = r.text();
    assert_eq!(
        body.matches("<script").count(),
        body.matches("<script src=\"/console/assets/console.js\" defer></script>")
            .count(),
        "only the console's own script: {body}"
    );
    assert!(!body.contains(" style="), "no inline styles");
    assert!(!body.contains("<style"), "no inline style sheets");
    let external = body.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !external.contains("http://") && !external.contains("https://"),
        "no external resources"
    );
    // Every piece of hostile text was escaped.
    assert!(!body.contains("<script>alert"), "unescaped script: {body}");
    assert!(!body.contains("<img src=x"), "unescaped markup: {body}");
    body
}

fn csrf(c: &Client) -> String {
    c.csrf.clone().unwrap()
}

async fn logged_out_requests_go_to_login_and_the_form_logs_in(db: &TestDb) {
    let f = setup(db).await;
    let anon = f.server.client();
    let r = anon.get("/").await.expect(303);
    assert_eq!(location(&r), "/console");
    let r = anon.get("/console").await.expect(303);
    assert_eq!(location(&r), "/login");
    let r = anon.get("/console/review").await.expect(303);
    assert_eq!(location(&r), "/login?next=/console/review");
    let r = anon
        .post_form("/console/review/1", &[("verdict", "confirm")])
        .await
        .expect(303);
    assert_eq!(location(&r), "/login");
    assert!(
        db.store
            .get_review(domain::EventId(1))
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );

    // The form sets a login token cookie and carries the same token.
    let r = anon.get("/login?next=/console/map").await;
    let cookie = r
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("posbon_login="))
        .map(|(_, v)| v.clone())
        .expect("a login token cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let token = cookie["posbon_login=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body = html_page(r, 200);
    assert!(
        body.contains(&format!("name=\"_login\" value=\"{token}\"")),
        "{body}"
    );
    assert!(body.contains("value=\"/console/map\""), "{body}");
    let with_cookie = format!("posbon_login={token}");
    let submit = |user: &'static str, pw: &'static str, tok: String, cookie: String| {
        let anon = f.server.client();
        async move {
            let body = common::form_encode(&[
                ("username", user),
                ("password", pw),
                ("_login", &tok),
                ("next", "/console/map"),
            ]);
            anon.raw(
                "POST",
                "/login",
                &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Cookie", &cookie),
                ],
                Some(body.as_bytes()),
            )
            .await
        }
    };

    // A token that is not the cookie's: refused before the password is looked at.
    let body = html_page(
        submit("admin", PASSWORD, "f".repeat(32), with_cookie.clone()).await,
        403,
    );
    assert!(body.contains("the login form had expired"), "{body}");

    // A wrong password: the API's answer, on the form, with the username kept.
    let body = html_page(
        submit("analyst", "wrong", token.clone(), with_cookie.clone()).await,
        401,
    );
    assert!(body.contains("wrong username or password"), "{body}");
    assert!(body.contains("value=\"analyst\""), "{body}");

    // Right: a session cookie and on to the page asked for.
    let r = submit("admin", PASSWORD, token.clone(), with_cookie.clone())
        .await
        .expect(303);
    assert_eq!(location(&r), "/console/map");
    let session = r
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("posbon_session="))
        .map(|(_, v)| v.clone())
        .expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
    let mut admin = f.server.client();
    admin.cookie = Some(
        session["posbon_session=".len()..]
            .split(';')
            .next()
            .unwrap()
            .to_owned(),
    );
    html_page(admin.get("/console/map").await, 200);
    let r = admin.get("/login").await.expect(303);
    assert_eq!(location(&r), "/console", "logged in already");

    // The rate limit (5 a minute per username and address) shows the API's message.
    for _ in 0..4 {
        submit("analyst", "wrong", token.clone(), with_cookie.clone())
            .await
            .expect(401);
    }
    let body = html_page(
        submit("analyst", PASSWORD, token.clone(), with_cookie.clone()).await,
        429,
    );
    assert!(body.contains("too many login attempts"), "{body}");

    // Logging out needs the form's token, then ends the session.
    let admin_csrf = server::auth::csrf_for(admin.cookie.as_deref().unwrap());
    admin
        .post_form("/logout", &[("_csrf", "0")])
        .await
        .expect(403);
    let r = admin
        .post_form("/logout", &[("_csrf", &admin_csrf)])
        .await
        .expect(303);
    assert_eq!(location(&r), "/login");
    assert_eq!(
        location(&admin.get("/console/map").await.expect(303)),
        "/login?next=/console/map"
    );
    let log = db.store.audit_entries(None, 1000).await.unwrap();
    for action in [
        "auth.login",
        "auth.login_failed",
        "auth.login_limited",
        "auth.logout",
    ] {
        assert!(
            log.iter().any(|r| r.entry.action == action),
            "{action} audited"
        );
    }
    db.store.audit_verify(None).await.unwrap();
}

async fn review_queue_confirms_and_dismisses_with_csrf(db: &TestDb) {
    let f = setup(db).await;
    let op = logged_in(&f, "operator").await;
    let r = op.get("/console").await.expect(303);
    assert_eq!(location(&r), "/console/review");
    let body = html_page(op.get("/console/review").await, 200);
    let pending = db
        .store
        .list_pending_events(&Scope::National, 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 3);
    for e in &pending {
        assert!(body.contains(&format!("id=\"event-{}\"", e.id)), "{body}");
        assert!(
            body.contains(&format!("src=\"/api/events/{}/evidence/0\"", e.id)),
            "{body}"
        );
    }
    assert!(body.contains("loitering"));
    assert!(
        body.contains("gate &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
        "zone and camera escaped: {body}"
    );
    assert!(body.contains("Navbahor"), "the mahalla's name: {body}");
    // The image the page points at is served to this user.
    let img = op
        .get(&format!("/api/events/{}/evidence/0", pending[0].id))
        .await
        .expect(200);
    assert_eq!(img.header("content-type"), Some("image/jpeg"));

    // Without the form's token: 403 and nothing recorded.
    let e0 = pending[0].id;
    let path0 = format!("/console/review/{e0}");
    html_page(
        op.post_form(&path0, &[("verdict", "confirm"), ("category", "theft")])
            .await,
        403,
    );
    html_page(
        op.post_form(
            &path0,
            &[
                ("_csrf", &"0".repeat(64)),
                ("verdict", "confirm"),
                ("category", "theft"),
            ],
        )
        .await,
        403,
    );
    assert!(db.store.get_review(e0).await.unwrap().is_none());

    // Confirm with a category: an incident draft, and the queue says so.
    let r = op
        .post_form(
            &path0,
            &[
                ("_csrf", &csrf(&op)),
                ("verdict", "confirm"),
                ("category", "theft"),
                ("note", HOSTILE),
                ("reason", "shadow"),
            ],
        )
        .await
        .expect(303);
    let incidents = db
        .store
        .list_incidents(&Scope::National, None, 10)
        .await
        .unwrap();
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(inc.category, domain::Category::Theft);
    assert_eq!(inc.event, Some(e0));
    assert_eq!(inc.narrative, HOSTILE);
    assert_eq!(
        location(&r),
        format!("/console/review?confirmed={e0}&incident={}", inc.id)
    );
    let body = html_page(op.get(location(&r)).await, 200);
    assert!(
        body.contains(&format!("href=\"/console/incidents/{}\"", inc.id)),
        "{body}"
    );
    assert!(
        !body.contains(&format!("id=\"event-{e0}\"")),
        "no longer waiting"
    );

    // Dismiss with a reason; "other" without a note is refused on the page.
    let e1 = pending[1].id;
    let body = html_page(
        op.post_form(
            &format!("/console/review/{e1}"),
            &[
                ("_csrf", &csrf(&op)),
                ("verdict", "dismiss"),
                ("reason", "other"),
            ],
        )
        .await,
        400,
    );
    assert!(body.contains("class=\"banner error\""), "{body}");
    assert!(db.store.get_review(e1).await.unwrap().is_none());
    let r = op
        .post_form(
            &format!("/console/review/{e1}"),
            &[
                ("_csrf", &csrf(&op)),
                ("verdict", "dismiss"),
                ("reason", "shadow"),
                ("category", "theft"),
            ],
        )
        .await
        .expect(303);
    assert_eq!(location(&r), format!("/console/review?dismissed={e1}"));
    let review = db.store.get_review(e1).await.unwrap().unwrap();
    assert_eq!(
        review.verdict,
        domain::Verdict::Dismiss(domain::DismissReason::Shadow)
    );
    // A second verdict: 409 on the page.
    html_page(
        op.post_form(
            &path0,
            &[
                ("_csrf", &csrf(&op)),
                ("verdict", "dismiss"),
                ("reason", "shadow"),
            ],
        )
        .await,
        409,
    );
    // A malformed redirect query is ignored, not an error.
    let body = html_page(
        op.get("/console/review?confirmed=abc&incident=%3Cb%3E")
            .await,
        200,
    );
    assert!(!body.contains("id=\"done\""));
    // An unknown category word is a 400 naming it.
    let e2 = pending[2].id;
    let body = html_page(
        op.post_form(
            &format!("/console/review/{e2}"),
            &[
                ("_csrf", &csrf(&op)),
                ("verdict", "confirm"),
                ("category", "arson<b>"),
            ],
        )
        .await,
        400,
    );
    assert!(body.contains("arson&lt;b&gt;"), "{body}");

    // Roles: an inspector and an auditor may not review.
    let insp = logged_in(&f, "inspector_a").await;
    html_page(insp.get("/console/review").await, 403);
    html_page(
        insp.post_form(
            &format!("/console/review/{e2}"),
            &[("_csrf", &csrf(&insp)), ("verdict", "confirm")],
        )
        .await,
        403,
    );
    assert!(db.store.get_review(e2).await.unwrap().is_none());
    db.store.audit_verify(None).await.unwrap();
}

async fn incidents_are_escaped_scoped_and_change_status(db: &TestDb) {
    let f = setup(db).await;
    let insp_a = logged_in(&f, "inspector_a").await;
    let insp_b = logged_in(&f, "inspector_b").await;
    let mut ids = Vec::new();
    for (c, m) in [(&insp_a, MAHALLA_A), (&insp_b, MAHALLA_B)] {
        let r = c
            .post(
                "/api/incidents",
                &json!({"category": "theft", "source": "inspector", "occurred_at": "2024-05-01T09:30:00.000000Z",
                        "mahalla": m.0, "point": {"lon": 69.25, "lat": 41.315}, "narrative": format!("{HOSTILE} in {m}")}),
            )
            .await
            .expect(201);
        ids.push(IncidentId(r.json()["id"].as_i64().unwrap()));
    }
    let (a, b) = (ids[0], ids[1]);

    // The list: each inspector sees their own only; filters work.
    let body = html_page(insp_a.get("/console/incidents").await, 200);
    assert!(body.contains(&format!("href=\"/console/incidents/{a}\"")));
    assert!(
        !body.contains(&format!("href=\"/console/incidents/{b}\"")),
        "{body}"
    );
    assert!(
        body.contains("href=\"/api/incidents.csv\"")
            && body.contains("href=\"/api/incidents.geojson\"")
    );
    let admin = logged_in(&f, "admin").await;
    let body = html_page(admin.get("/console/incidents").await, 200);
    assert!(
        body.contains(&format!("/console/incidents/{a}\""))
            && body.contains(&format!("/console/incidents/{b}\""))
    );
    let body = html_page(
        admin
            .get(&format!("/console/incidents?mahalla={}", MAHALLA_B.0))
            .await,
        200,
    );
    assert!(
        !body.contains(&format!("/console/incidents/{a}\""))
            && body.contains(&format!("/console/incidents/{b}\""))
    );
    let body = html_page(admin.get("/console/incidents?status=closed").await, 200);
    assert!(body.contains("No incidents match"), "{body}");
    html_page(admin.get("/console/incidents?status=bogus").await, 400);

    // The detail: escaped narrative; the other mahalla's incident is missing.
    let body = html_page(insp_a.get(&format!("/console/incidents/{a}")).await, 200);
    assert!(
        body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &lt;img src=x onerror=alert(1)&gt;"),
        "{body}"
    );
    let missing = html_page(insp_a.get(&format!("/console/incidents/{b}")).await, 404);
    let really_missing = html_page(insp_a.get("/console/incidents/999999").await, 404);
    assert_eq!(
        missing.replace(&b.to_string(), "ID"),
        really_missing.replace("999999", "ID"),
        "outside the scope reads as missing"
    );

    // Assign to self, then an illegal change (assigned -> assigned) is refused on the page.
    let me = insp_a.get("/api/me").await.expect(200).json()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/console/incidents/{a}/status");
    html_page(
        insp_a
            .post_form(&path, &[("to", "assigned"), ("assignee", &me.to_string())])
            .await,
        403,
    );
    let r = insp_a
        .post_form(
            &path,
            &[
                ("_csrf", &csrf(&insp_a)),
                ("to", "assigned"),
                ("assignee", &me.to_string()),
                ("note", "mine"),
            ],
        )
        .await
        .expect(303);
    assert_eq!(location(&r), format!("/console/incidents/{a}?changed=1"));
    let inc = db.store.get_incident(a).await.unwrap().unwrap();
    assert_eq!(inc.status, domain::Status::Assigned);
    assert_eq!(inc.assignee, Some(domain::UserId(me)));
    let body = html_page(insp_a.get(location(&r)).await, 200);
    assert!(body.contains("Status saved"));
    assert_eq!(db.store.incident_history(a).await.unwrap().len(), 2);
    let body = html_page(
        insp_a
            .post_form(
                &path,
                &[
                    ("_csrf", &csrf(&insp_a)),
                    ("to", "new"),
                    ("assignee", "999999"),
                ],
            )
            .await,
        400,
    );
    assert!(body.contains("cannot be assigned"), "{body}");
    // inspector_b cannot touch A's incident; an analyst reads but may not write.
    html_page(
        insp_b
            .post_form(&path, &[("_csrf", &csrf(&insp_b)), ("to", "closed")])
            .await,
        404,
    );
    let analyst = logged_in(&f, "analyst").await;
    let body = html_page(analyst.get(&format!("/console/incidents/{a}")).await, 200);
    assert!(!body.contains("Change status"), "no form for a reader");
    html_page(
        analyst
            .post_form(&path, &[("_csrf", &csrf(&analyst)), ("to", "closed")])
            .await,
        403,
    );
    assert_eq!(
        db.store.get_incident(a).await.unwrap().unwrap().status,
        domain::Status::Assigned
    );
    html_page(
        logged_in(&f, "auditor")
            .await
            .get("/console/incidents")
            .await,
        403,
    );

    // The map: an inspector's shows only their mahalla, with its count.
    let body = html_page(insp_a.get("/console/map").await, 200);
    assert!(
        body.contains(&format!("id=\"mahalla-{}\"", MAHALLA_A.0)),
        "{body}"
    );
    assert!(
        !body.contains(&format!("id=\"mahalla-{}\"", MAHALLA_B.0)),
        "{body}"
    );
    assert!(body.contains("data-count=\"1\""), "{body}");
    assert!(
        body.contains(&format!("id=\"dot-{a}\"")) && !body.contains(&format!("id=\"dot-{b}\""))
    );
    let body = html_page(admin.get("/console/map").await, 200);
    assert!(
        body.contains(&format!("id=\"mahalla-{}\"", MAHALLA_A.0))
            && body.contains(&format!("id=\"mahalla-{}\"", MAHALLA_B.0))
    );
    let body = html_page(admin.get("/console/map?source=public").await, 200);
    assert!(
        !body.contains("data-count=\"1\""),
        "no public reports yet: {body}"
    );
    let _ = f.camera;
    db.store.audit_verify(None).await.unwrap();
}

async fn users_are_created_once_and_disabled(db: &TestDb) {
    let f = setup(db).await;
    let admin = logged_in(&f, "admin").await;
    let body = html_page(admin.get("/console/users").await, 200);
    assert!(body.contains("inspector_a"));
    for u in ["operator", "inspector_a", "analyst", "auditor"] {
        html_page(logged_in(&f, u).await.get("/console/users").await, 403);
    }
    let fields = |name: &'static str, scope: &'static str| {
        vec![
            ("username", name),
            ("display_name", "New <b>Inspector</b>"),
            ("role", "inspector"),
            ("scope", scope),
        ]
    };
    let scope_b: &'static str = Box::leak(format!("mahalla:{}", MAHALLA_B.0).into_boxed_str());
    let mut form = fields("new_insp", scope_b);
    html_page(admin.post_form("/console/users", &form).await, 403);
    let token = csrf(&admin);
    form.push(("_csrf", &token));
    let body = html_page(admin.post_form("/console/users", &form).await, 200);
    let start = body
        .find("id=\"new-password\">")
        .expect("the password is shown")
        + "id=\"new-password\">".len();
    let password = &body[start..start + 20];
    assert!(
        password.chars().all(|c| c.is_ascii_alphanumeric()),
        "{password}"
    );
    assert!(body.contains("New &lt;b&gt;Inspector&lt;/b&gt;"), "{body}");
    // It works, once; the page does not show it again.
    let mut new = f.server.client();
    new.login("new_insp", password).await.expect(200);
    assert!(!html_page(admin.get("/console/users").await, 200).contains(password));
    // A taken username, a bad scope, a place that does not exist: refused on the page.
    let body = html_page(admin.post_form("/console/users", &form).await, 409);
    assert!(body.contains("class=\"banner error\""));
    let mut bad = fields("other", "county:3");
    bad.push(("_csrf", &token));
    html_page(admin.post_form("/console/users", &bad).await, 400);
    let mut nowhere = fields("other", "mahalla:424242");
    nowhere.push(("_csrf", &token));
    html_page(admin.post_form("/console/users", &nowhere).await, 400);

    // Disable: the user's session ends and logging in fails; enable again.
    let id = db
        .store
        .get_user_by_username("new_insp")
        .await
        .unwrap()
        .unwrap()
        .id;
    let path = format!("/console/users/{id}/disabled");
    html_page(admin.post_form(&path, &[("disabled", "true")]).await, 403);
    admin
        .post_form(&path, &[("_csrf", &token), ("disabled", "true")])
        .await
        .expect(303);
    new.get("/api/me").await.expect_error(401);
    assert_eq!(
        location(&new.get("/console/incidents").await.expect(303)),
        "/login?next=/console/incidents"
    );
    f.server
        .client()
        .login("new_insp", password)
        .await
        .expect_error(401);
    admin
        .post_form(&path, &[("_csrf", &token), ("disabled", "false")])
        .await
        .expect(303);
    f.server
        .client()
        .login("new_insp", password)
        .await
        .expect(200);
    // An admin cannot lock themselves out.
    let me = admin.get("/api/me").await.expect(200).json()["id"]
        .as_i64()
        .unwrap();
    html_page(
        admin
            .post_form(
                &format!("/console/users/{me}/disabled"),
                &[("_csrf", &token), ("disabled", "true")],
            )
            .await,
        400,
    );
    let log = db.store.audit_entries(None, 1000).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
    for a in ["user.create", "user.disable", "user.enable"] {
        assert_eq!(
            actions.iter().filter(|x| **x == a).count(),
            1,
            "{a}: {actions:?}"
        );
    }
    assert!(
        !log.iter()
            .any(|r| r.entry.details.to_string().contains(password)),
        "the password is never logged"
    );
    db.store.audit_verify(None).await.unwrap();
}

async fn audit_page_shows_entries_and_the_chain(db: &TestDb) {
    let f = setup(db).await;
    let op = logged_in(&f, "operator").await;
    let pending = db
        .store
        .list_pending_events(&Scope::National, 1)
        .await
        .unwrap();
    op.get(&format!("/api/events/{}/evidence/0", pending[0].id))
        .await
        .expect(200);
    let auditor = logged_in(&f, "auditor").await;
    let body = html_page(auditor.get("/console/audit").await, 200);
    assert!(body.contains("Hash chain verified"), "{body}");
    assert!(body.contains("evidence.view"), "{body}");
    assert!(body.contains(&format!("event:{}", pending[0].id)));
    for u in ["operator", "inspector_a", "analyst"] {
        html_page(logged_in(&f, u).await.get("/console/audit").await, 403);
    }
    html_page(auditor.get("/console/audit?after=abc").await, 400);
    // More than a page: the pager goes back.
    for k in 0..60 {
        db.store
            .audit_append("system:test", "test.fill", "", &json!({"k": k}))
            .await
            .unwrap();
    }
    let body = html_page(auditor.get("/console/audit").await, 200);
    assert!(body.contains("← Older"), "{body}");
    assert!(!body.contains("evidence.view"), "an older page now");
    let older = html_page(auditor.get("/console/audit?after=0").await, 200);
    assert!(older.contains("evidence.view"));
    // A tampered chain is reported as broken.
    if db.backend == store::Backend::Sqlite {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let triggers: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (t,) in triggers {
            assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            sqlx::raw_sql(&format!("DROP TRIGGER {t}"))
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE audit_log SET details = '{\"k\":999}' WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let body = html_page(auditor.get("/console/audit").await, 200);
        assert!(body.contains("The hash chain is broken"), "{body}");
    } else {
        db.store.audit_verify(None).await.unwrap();
    }
}

async fn static_assets_and_openapi(db: &TestDb) {
    let f = setup(db).await;
    let anon = f.server.client();
    let css = anon.get("/console/assets/console.css").await.expect(200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(!css.text().contains("http"), "no external fonts or images");
    let js = anon.get("/console/assets/console.js").await.expect(200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(
        !js.text().contains("innerHTML"),
        "the script builds text nodes only"
    );
    let doc = anon.get("/openapi.json").await.expect(200).json();
    assert!(doc["paths"]["/console/review"]["get"].is_object());
    assert!(doc["paths"]["/api/events/{id}/evidence/{n}"]["get"].is_object());
}

async fn cameras_and_citizen_reports_pages(db: &TestDb) {
    let f = setup(db).await;
    let op = logged_in(&f, "operator").await;
    let body = html_page(op.get("/console/cameras").await, 200);
    assert!(
        body.contains(&format!("id=\"camera-{}\"", f.camera.0)),
        "{body}"
    );
    assert!(
        body.contains("id=\"precision\""),
        "operators see precision: {body}"
    );
    // an inspector sees cameras but not precision (not a precision reader)
    let insp_b = logged_in(&f, "inspector_b").await;
    let body = html_page(insp_b.get("/console/cameras").await, 200);
    assert!(
        !body.contains(&format!("id=\"camera-{}\"", f.camera.0)),
        "camera of mahalla A shown to B's inspector: {body}"
    );
    assert!(!body.contains("id=\"precision\""), "{body}");

    // A citizen's report waits for moderation, shown to the operator and A's inspector only.
    let public = f.server.client();
    let r = public
        .post(
            "/public/reports",
            &json!({ "category": "theft", "narrative": format!("bicycle taken {HOSTILE}"),
                     "occurred_at": "2024-05-01T09:30:00+05:00", "mahalla": MAHALLA_A.0 }),
        )
        .await
        .expect(201)
        .json();
    let code = r["code"].as_str().unwrap().to_owned();
    let body = html_page(op.get("/console/reports").await, 200);
    assert!(body.contains(&code), "{body}");
    let body = html_page(insp_b.get("/console/reports").await, 200);
    assert!(
        !body.contains(&code),
        "B's inspector sees A's report: {body}"
    );
    let id = op.get("/api/reports").await.expect(200).json()["reports"][0]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/console/reports/{id}/moderate");
    // no CSRF token: refused, nothing decided
    op.post_form(&path, &[("decision", "accept"), ("category", "theft")])
        .await
        .expect(403);
    let t = csrf(&op);
    let r = op
        .post_form(
            &path,
            &[("_csrf", &t), ("decision", "accept"), ("category", "theft")],
        )
        .await
        .expect(303);
    assert_eq!(location(&r), "/console/reports");
    let rep = op
        .get(&format!("/api/reports/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(rep["report"]["status"], "accepted", "{rep}");
    let inc = rep["report"]["incident"].as_i64().expect("an incident");
    let i = op
        .get(&format!("/api/incidents/{inc}"))
        .await
        .expect(200)
        .json();
    assert_eq!(i["incident"]["source"], "public", "{i}");
    let body = html_page(op.get("/console/reports").await, 200);
    assert!(
        !body.contains(&code),
        "a decided report left the queue: {body}"
    );
}

/// Camera control for the form test: a TOML with `bad` is refused naming its line; the cameras
/// applied are remembered.
#[derive(Default)]
struct FakeCameras(std::sync::Mutex<Vec<CameraId>>);

impl server::cameras::CameraControl for FakeCameras {
    fn validate_config(&self, toml: &str) -> Result<(), String> {
        match toml.lines().position(|l| l.contains("bad")) {
            Some(i) => Err(format!("line {}: unknown key `bad`", i + 1)),
            None => Ok(()),
        }
    }
    fn validate_url(&self, url: &str) -> Result<(), String> {
        if url.starts_with("rtsp://") || url.starts_with("file:") {
            Ok(())
        } else {
            Err(format!("{url:?} is neither rtsp:// nor file:"))
        }
    }
    fn apply(&self, camera: &domain::Camera) {
        self.0.lock().unwrap().push(camera.id);
    }
    fn remove(&self, _id: CameraId) {}
    fn health(&self) -> Vec<domain::CameraStatus> {
        Vec::new()
    }
    fn snapshot(
        &self,
        _id: CameraId,
        _wait: std::time::Duration,
    ) -> Option<server::cameras::Snapshot> {
        None
    }
}

async fn cameras_are_registered_through_the_form(db: &TestDb) {
    let _seeded = setup(db).await;
    let fake = std::sync::Arc::new(FakeCameras::default());
    let state = server::AppState::new(db.store.clone(), &server::Config::default())
        .unwrap()
        .with_cameras(fake.clone());
    let srv = TestServer::start_with(state).await;
    let mut op = srv.client();
    op.login("operator", PASSWORD).await.expect(200);
    let body = html_page(op.get("/console/cameras").await, 200);
    assert!(body.contains("id=\"new-camera\""), "{body}");
    let mahalla = MAHALLA_A.0.to_string();
    let t = csrf(&op);
    let form = |toml: &'static str, name: &'static str| {
        vec![
            ("name", name),
            ("url", "rtsp://cam:secret@127.0.0.1:8554/gate"),
            ("lon", "69.2401"),
            ("lat", "41.3102"),
            ("config_toml", toml),
        ]
    };
    // a TOML the pipeline refuses: 400 naming the line, the form comes back filled in, nothing stored
    let mut bad = form("[detector]\nbad = 1\n", "north gate");
    bad.push(("_csrf", &t));
    bad.push(("mahalla", &mahalla));
    let body = html_page(op.post_form("/console/cameras", &bad).await, 400);
    assert!(body.contains("line 2: unknown key"), "{body}");
    assert!(body.contains("value=\"north gate\""), "{body}");
    assert!(fake.0.lock().unwrap().is_empty());
    // a mahalla outside the operator's district: refused
    let mut outside = form("", "far away");
    outside.push(("_csrf", &t));
    outside.push(("mahalla", "424242"));
    let r = op.post_form("/console/cameras", &outside).await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    // no CSRF token: refused
    let mut no_token = form("", "north gate");
    no_token.push(("mahalla", &mahalla));
    op.post_form("/console/cameras", &no_token)
        .await
        .expect(403);
    // good: stored, started, listed, audited, the password not shown
    let mut good = form("", "north gate");
    good.push(("_csrf", &t));
    good.push(("mahalla", &mahalla));
    let r = op.post_form("/console/cameras", &good).await.expect(303);
    assert_eq!(location(&r), "/console/cameras");
    let started = fake.0.lock().unwrap().clone();
    assert_eq!(started.len(), 1);
    let body = html_page(op.get("/console/cameras").await, 200);
    assert!(
        body.contains(&format!("id=\"camera-{}\"", started[0].0)),
        "{body}"
    );
    assert!(
        !body.contains("secret"),
        "the stream's password is shown: {body}"
    );
    let audit = db.store.audit_entries(None, 1000).await.unwrap();
    assert!(
        audit.iter().any(|e| e.entry.action == "camera.create"),
        "not audited"
    );
}

on_both_databases!(
    logged_out_requests_go_to_login_and_the_form_logs_in,
    review_queue_confirms_and_dismisses_with_csrf,
    incidents_are_escaped_scoped_and_change_status,
    users_are_created_once_and_disabled,
    audit_page_shows_entries_and_the_chain,
    static_assets_and_openapi,
    cameras_and_citizen_reports_pages,
    cameras_are_registered_through_the_form,
);
