//! Users (admins only): the list, a form that creates an account with a generated password
//! shown once (only its Argon2id hash is stored), and disabling or re-enabling an account. Each
//! change is audited (`user.create`, `user.disable`, `user.enable`); disabling ends the
//! account's sessions at once.
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{Actor, NewUser, Role, Scope, User, UserId};
use serde::Deserialize;
use serde_json::json;

use super::html::Html;
use super::{
    ADMINS, PageError, PageResult, Viewer, error_banner, html_response, label, layout, redirect,
    select_words, when,
};
use crate::AppState;
use crate::auth::{generate_password, hash_password};
use crate::error::ApiError;
use crate::extract::parse_id;
use crate::html;

async fn render(state: &AppState, v: &Viewer, banner: Html, status: StatusCode) -> PageResult {
    let users = state.store.list_users().await?;
    let mut body = Html::new();
    body.push(&banner);
    body.raw("<table class=\"list\" id=\"users\"><thead><tr><th>#</th><th>Username</th><th>Name</th><th>Role</th><th>Scope</th><th>Created</th><th>State</th><th></th></tr></thead><tbody>");
    for u in &users {
        html!(body; "<tr id=\"user-" {u.id} "\"><td>" {u.id} "</td><td>" {u.username} "</td><td>" {u.display_name}
            "</td><td>" {u.role} "</td><td>" {u.scope} "</td><td>" {when(u.created_at)} "</td><td>"
            {if u.disabled { "disabled" } else { "active" }} "</td><td>");
        if u.id != v.me.user.id {
            html!(body; "<form method=\"post\" action=\"/console/users/" {u.id} "/disabled\" class=\"inline\">" [v.csrf_field()]
                "<input type=\"hidden\" name=\"disabled\" value=\"" {!u.disabled} "\">"
                "<button type=\"submit\" class=\"" {if u.disabled { "secondary" } else { "dismiss" }} "\">"
                {if u.disabled { "Enable" } else { "Disable" }} "</button></form>");
        }
        body.raw("</td></tr>");
    }
    body.raw("</tbody></table>");
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    html!(body; "<section class=\"card\"><h2>New user <span class=\"uz\">Yangi foydalanuvchi</span></h2>"
        "<form method=\"post\" action=\"/console/users\" class=\"grid-form\" id=\"new-user\">" [v.csrf_field()]
        "<label>Username <input name=\"username\" required maxlength=\"64\" pattern=\"[a-z0-9][a-z0-9._\\-]*\" placeholder=\"a-z 0-9 . _ -\"></label>"
        "<label>Display name <input name=\"display_name\" required maxlength=\"200\"></label>"
        "<label>Role " [select_words("role", &roles, Some("inspector"), None)] "</label>"
        "<label>Scope <input name=\"scope\" required placeholder=\"national, region:ID, district:ID or mahalla:ID\"></label>"
        "<button type=\"submit\">Create</button></form>"
        "<p class=\"muted\">The password is generated and shown once, on the next page; posbon keeps only its Argon2id hash.</p></section>");
    Ok(html_response(
        status,
        layout(Some(v), "/console/users", "Users", &body),
    ))
}

/// `GET /console/users`
pub async fn page_get(State(state): State<AppState>, v: Viewer) -> PageResult {
    v.require(ADMINS)?;
    render(&state, &v, Html::new(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

async fn create_user(
    state: &AppState,
    v: &Viewer,
    f: CreateForm,
) -> Result<(User, String), ApiError> {
    let bad = |e: domain::DomainError, fix: &str| ApiError::bad_request(e.to_string(), fix);
    let role: Role = f
        .role
        .parse()
        .map_err(|e| bad(e, "pick a role from the list"))?;
    let scope: Scope = f
        .scope
        .trim()
        .parse()
        .map_err(|e| bad(e, "write national, region:ID, district:ID or mahalla:ID"))?;
    domain::access::validate_username(&f.username)
        .map_err(|e| bad(e, "choose another username"))?;
    let password = generate_password();
    let hash = tokio::task::spawn_blocking({
        let p = password.clone();
        move || hash_password(&p)
    })
    .await
    .map_err(|e| ApiError::internal("hash the password", &e))?
    .map_err(|e| ApiError::internal("hash the password", &e))?;
    let display_name = if f.display_name.trim().is_empty() {
        f.username.clone()
    } else {
        f.display_name.trim().to_owned()
    };
    let user = state
        .store
        .create_user(&NewUser {
            username: f.username,
            display_name,
            password_hash: hash,
            role,
            scope,
        })
        .await?;
    state
        .store
        .audit_append(
            &v.me.actor(),
            "user.create",
            &Actor::User(user.id).to_string(),
            &json!({ "username": user.username, "role": user.role.as_str(), "scope": user.scope.to_string() }),
        )
        .await?;
    Ok((user, password))
}

/// `POST /console/users`: creates the account and shows its password once.
pub async fn create(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<CreateForm>, FormRejection>,
) -> PageResult {
    v.require(ADMINS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    match create_user(&state, &v, f).await {
        Ok((user, password)) => {
            let mut banner = Html::new();
            html!(banner; "<div class=\"banner ok\" role=\"status\" id=\"created\"><p>Created <strong>" {user.username}
                "</strong> (" {label(user.role.as_str())} ", " {user.scope} "). Give them this password now; it is not shown again and not stored:</p>"
                "<p><code class=\"password\" id=\"new-password\">" {password} "</code></p></div>");
            render(&state, &v, banner, StatusCode::OK).await
        }
        Err(e) if e.status.is_client_error() => {
            render(&state, &v, error_banner(&e), e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    disabled: String,
}

/// `POST /console/users/{id}/disabled` with `disabled=true|false`.
pub async fn set_disabled(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<DisableForm>, FormRejection>,
) -> PageResult {
    v.require(ADMINS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let id = UserId(parse_id("user", &raw)?);
    let disabled = match f.disabled.as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(PageError(ApiError::bad_request(
                format!("disabled={other:?} is neither true nor false"),
                "use the Disable or Enable button",
            )));
        }
    };
    if id == v.me.user.id && disabled {
        let e = ApiError::bad_request(
            "you cannot disable your own account",
            "ask another administrator to do it",
        );
        return render(&state, &v, error_banner(&e), e.status).await;
    }
    state
        .store
        .set_user_disabled(id, disabled, &Actor::User(v.me.user.id))
        .await?;
    Ok(redirect("/console/users"))
}
