//! The public pages: `/report` (a form that works without JavaScript) and `/report/status`
//! (enter a code). Server-rendered HTML with no external resources and no scripts; every value
//! from the database or the request is HTML-escaped. Uzbek (Latin) by default, with Russian and
//! English (`?lang=ru`, `?lang=en`). Validation messages from the server are in English.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Category, DistrictId, RejectReason, ReportCode, ReportStatus};

use crate::AppState;
use crate::error::ApiError;
use crate::reports::{ReportForm, lookup};

/// The page languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Uz,
    Ru,
    En,
}

impl Lang {
    /// The language a `lang` parameter names; Uzbek when it names none.
    pub fn pick(p: Option<&str>) -> Lang {
        match p {
            Some("ru") => Lang::Ru,
            Some("en") => Lang::En,
            _ => Lang::Uz,
        }
    }
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Uz => "uz",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }
    pub(crate) fn names(self) -> domain::Lang {
        match self {
            Lang::Uz => domain::Lang::UzLatn,
            Lang::Ru => domain::Lang::Ru,
            Lang::En => domain::Lang::En,
        }
    }
}

/// The pages' words.
struct Text {
    title: &'static str,
    intro: &'static str,
    emergency: &'static str,
    privacy: &'static str,
    district: &'static str,
    next: &'static str,
    change_district: &'static str,
    mahalla: &'static str,
    category: &'static str,
    what: &'static str,
    when: &'static str,
    point: &'static str,
    lon: &'static str,
    lat: &'static str,
    affected: &'static str,
    minor: &'static str,
    youth: &'static str,
    woman: &'static str,
    anonymous: &'static str,
    anonymous_hint: &'static str,
    contact: &'static str,
    contact_hint: &'static str,
    submit: &'static str,
    received: &'static str,
    already: &'static str,
    your_code: &'static str,
    keep_code: &'static str,
    check_status: &'static str,
    status_title: &'static str,
    code: &'static str,
    check: &'static str,
    status: &'static str,
    reason: &'static str,
    sent_on: &'static str,
    not_sent: &'static str,
    problem: &'static str,
    new_report: &'static str,
    no_places: &'static str,
}

const UZ: Text = Text {
    title: "Hodisa haqida xabar berish",
    intro: "Mahallangizdagi huquqbuzarlik yoki xavfli holat haqida xabar bering. Ro'yxatdan o'tish shart emas.",
    emergency: "Favqulodda holatda 102 (militsiya) yoki 112 raqamiga qo'ng'iroq qiling.",
    privacy: "Biz IP manzilingizni saqlamaymiz. Anonim xabarda aloqa ma'lumotlari ham saqlanmaydi.",
    district: "Tuman yoki shahar",
    next: "Davom etish",
    change_district: "Boshqa tumanni tanlash",
    mahalla: "Mahalla",
    category: "Hodisa turi",
    what: "Nima bo'lganini yozing",
    when: "Qachon sodir bo'ldi",
    point: "Aniq joy koordinatalari (ixtiyoriy)",
    lon: "Uzunlik",
    lat: "Kenglik",
    affected: "Jabrlanganlar orasida bor",
    minor: "voyaga yetmaganlar (18 yoshgacha)",
    youth: "yoshlar (18–30 yosh)",
    woman: "ayollar",
    anonymous: "Anonim yuborish",
    anonymous_hint: "Anonim xabarda aloqa ma'lumotlari saqlanmaydi.",
    contact: "Telefon yoki e-pochta (ixtiyoriy)",
    contact_hint: "Uni faqat xabaringizni ko'rib chiquvchi xodim ko'radi.",
    submit: "Yuborish",
    received: "Xabaringiz qabul qilindi",
    already: "Bu xabar avvalroq qabul qilingan edi; uning kodi:",
    your_code: "Xabaringiz kodi:",
    keep_code: "Bu kodni saqlab qo'ying: u orqali xabaringiz holatini bilishingiz mumkin.",
    check_status: "Xabar holatini tekshirish",
    status_title: "Xabar holati",
    code: "Xabar kodi",
    check: "Tekshirish",
    status: "Holati",
    reason: "Sababi",
    sent_on: "Yuborilgan sana",
    not_sent: "Xabar yuborilmadi",
    problem: "Muammo",
    new_report: "Yangi xabar yuborish",
    no_places: "Hozircha mahallalar ro'yxati kiritilmagan.",
};

const RU: Text = Text {
    title: "Сообщить о происшествии",
    intro: "Сообщите о правонарушении или опасной ситуации в вашей махалле. Регистрация не нужна.",
    emergency: "В экстренной ситуации звоните 102 (милиция) или 112.",
    privacy: "Мы не сохраняем ваш IP-адрес. В анонимном сообщении не сохраняются и контактные данные.",
    district: "Район или город",
    next: "Далее",
    change_district: "Выбрать другой район",
    mahalla: "Махалля",
    category: "Тип происшествия",
    what: "Опишите, что произошло",
    when: "Когда это произошло",
    point: "Координаты точного места (необязательно)",
    lon: "Долгота",
    lat: "Широта",
    affected: "Среди пострадавших есть",
    minor: "несовершеннолетние (до 18 лет)",
    youth: "молодёжь (18–30 лет)",
    woman: "женщины",
    anonymous: "Отправить анонимно",
    anonymous_hint: "В анонимном сообщении контактные данные не сохраняются.",
    contact: "Телефон или e-mail (необязательно)",
    contact_hint: "Их увидит только сотрудник, который рассматривает сообщение.",
    submit: "Отправить",
    received: "Ваше сообщение принято",
    already: "Это сообщение уже было принято ранее; его код:",
    your_code: "Код вашего сообщения:",
    keep_code: "Сохраните этот код: по нему можно узнать статус сообщения.",
    check_status: "Проверить статус сообщения",
    status_title: "Статус сообщения",
    code: "Код сообщения",
    check: "Проверить",
    status: "Статус",
    reason: "Причина",
    sent_on: "Дата отправки",
    not_sent: "Сообщение не отправлено",
    problem: "Проблема",
    new_report: "Отправить новое сообщение",
    no_places: "Список махаллей пока не загружен.",
};

const EN: Text = Text {
    title: "Report an incident",
    intro: "Tell us about an offence or a danger in your mahalla. No account is needed.",
    emergency: "In an emergency call 102 (police) or 112.",
    privacy: "We do not store your IP address. An anonymous report stores no contact either.",
    district: "District or city",
    next: "Next",
    change_district: "Choose another district",
    mahalla: "Mahalla",
    category: "Kind of incident",
    what: "What happened",
    when: "When it happened",
    point: "Coordinates of the exact place (optional)",
    lon: "Longitude",
    lat: "Latitude",
    affected: "Among those affected are",
    minor: "minors (under 18)",
    youth: "young people (18–30)",
    woman: "women",
    anonymous: "Send anonymously",
    anonymous_hint: "An anonymous report keeps no contact details.",
    contact: "Phone or e-mail (optional)",
    contact_hint: "Only the officer who reviews your report sees it.",
    submit: "Send",
    received: "Your report was received",
    already: "This report had already been received; its code:",
    your_code: "Your report's code:",
    keep_code: "Keep this code: with it you can check your report's status.",
    check_status: "Check a report's status",
    status_title: "Report status",
    code: "Report code",
    check: "Check",
    status: "Status",
    reason: "Reason",
    sent_on: "Sent on",
    not_sent: "The report was not sent",
    problem: "Problem",
    new_report: "Send a new report",
    no_places: "No mahallas have been loaded yet.",
};

fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::Uz => &UZ,
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

fn category_name(lang: Lang, c: Category) -> &'static str {
    use Category::*;
    match (lang, c) {
        (Lang::Uz, DrugOffence) => "Giyohvandlik bilan bog'liq jinoyat",
        (Lang::Uz, Theft) => "O'g'irlik",
        (Lang::Uz, Violence) => "Zo'ravonlik",
        (Lang::Uz, Fraud) => "Firibgarlik",
        (Lang::Uz, Cybercrime) => "Kiberjinoyat",
        (Lang::Uz, PublicOrder) => "Jamoat tartibini buzish",
        (Lang::Uz, Traffic) => "Yo'l harakati",
        (Lang::Uz, Domestic) => "Oilaviy nizo",
        (Lang::Uz, Other) => "Boshqa",
        (Lang::Ru, DrugOffence) => "Наркопреступление",
        (Lang::Ru, Theft) => "Кража",
        (Lang::Ru, Violence) => "Насилие",
        (Lang::Ru, Fraud) => "Мошенничество",
        (Lang::Ru, Cybercrime) => "Киберпреступление",
        (Lang::Ru, PublicOrder) => "Нарушение общественного порядка",
        (Lang::Ru, Traffic) => "Дорожное движение",
        (Lang::Ru, Domestic) => "Бытовой конфликт",
        (Lang::Ru, Other) => "Другое",
        (Lang::En, DrugOffence) => "Drug offence",
        (Lang::En, Theft) => "Theft",
        (Lang::En, Violence) => "Violence",
        (Lang::En, Fraud) => "Fraud",
        (Lang::En, Cybercrime) => "Cybercrime",
        (Lang::En, PublicOrder) => "Public order",
        (Lang::En, Traffic) => "Traffic",
        (Lang::En, Domestic) => "Domestic",
        (Lang::En, Other) => "Other",
    }
}

fn status_text(lang: Lang, s: ReportStatus) -> &'static str {
    use ReportStatus::*;
    match (lang, s) {
        (Lang::Uz, Received) => "Qabul qilindi, ko'rib chiqilishini kutmoqda.",
        (Lang::Uz, UnderReview) => "Ko'rib chiqilmoqda.",
        (Lang::Uz, Accepted) => "Qabul qilindi va hodisa sifatida ro'yxatga olindi.",
        (Lang::Uz, Rejected) => "Qabul qilinmadi.",
        (Lang::Ru, Received) => "Получено, ожидает рассмотрения.",
        (Lang::Ru, UnderReview) => "Рассматривается.",
        (Lang::Ru, Accepted) => "Принято и зарегистрировано как происшествие.",
        (Lang::Ru, Rejected) => "Не принято.",
        (Lang::En, s) => s.public_text(),
    }
}

fn reason_text(lang: Lang, r: RejectReason) -> &'static str {
    use RejectReason::*;
    match (lang, r) {
        (Lang::Uz, Duplicate) => "Bu holat haqida avval xabar berilgan.",
        (Lang::Uz, NotEnoughDetail) => "Xabarda chora ko'rish uchun ma'lumot yetarli emas.",
        (Lang::Uz, NotASafetyMatter) => "Bu jamoat xavfsizligiga oid masala emas.",
        (Lang::Uz, OutsideArea) => "Bu joy tizim qamrab olgan mahallalardan tashqarida.",
        (Lang::Uz, Referred) => "Xabar tegishli xizmatga yuborildi.",
        (Lang::Uz, Other) => "Xabarni qabul qilib bo'lmadi.",
        (Lang::Ru, Duplicate) => "Об этом уже сообщали.",
        (Lang::Ru, NotEnoughDetail) => "В сообщении недостаточно сведений, чтобы принять меры.",
        (Lang::Ru, NotASafetyMatter) => "Это не вопрос общественной безопасности.",
        (Lang::Ru, OutsideArea) => "Место находится вне махаллей, которые охватывает система.",
        (Lang::Ru, Referred) => "Сообщение передано в ответственную службу.",
        (Lang::Ru, Other) => "Сообщение не может быть принято.",
        (Lang::En, r) => r.public_text(),
    }
}

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.45;color:#111}\
label{display:block;margin-top:.9rem;font-weight:600}\
.hint{font-weight:400;color:#555;font-size:.9rem}\
input[type=text],input[type=datetime-local],select,textarea{width:100%;box-sizing:border-box;padding:.45rem;font-size:1rem}\
textarea{min-height:8rem}\
.check{font-weight:400;display:block;margin-top:.3rem}\
button{margin-top:1.2rem;padding:.6rem 1.4rem;font-size:1rem}\
.code{font-size:1.8rem;font-family:ui-monospace,monospace;letter-spacing:.1em;padding:.5rem;border:2px solid #111;display:inline-block}\
.error{border:2px solid #b00;padding:.6rem;background:#fee}\
.emergency{background:#fff4d6;padding:.5rem}\
nav a{margin-right:.8rem}";

/// A whole page. `here` is the page's own path and query without `lang` (e.g.
/// `/report?district=9`), which the language links keep.
pub(crate) fn page(
    lang: Lang,
    status: StatusCode,
    title: &str,
    body: &str,
    here: &str,
) -> Response {
    let sep = if here.contains('?') { "&amp;" } else { "?" };
    let here = esc(here);
    let path_q = |l: &str| format!("{here}{sep}lang={l}");
    let html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · posbon</title><style>{STYLE}</style></head><body>\
         <nav><a href=\"{}\">O'zbekcha</a><a href=\"{}\">Русский</a><a href=\"{}\">English</a></nav>\
         {body}</body></html>",
        lang.code(),
        esc(title),
        path_q("uz"),
        path_q("ru"),
        path_q("en"),
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    r
}

fn error_box(t: &Text, e: &ApiError) -> String {
    problem_box(t.problem, e)
}

/// An error's box on a public page, headed by `problem` (the page's word for it).
pub(crate) fn problem_box(problem: &str, e: &ApiError) -> String {
    format!(
        "<div class=\"error\" role=\"alert\"><strong>{}:</strong> {}<br>{}</div>",
        esc(problem),
        esc(&e.error),
        esc(&e.fix)
    )
}

/// A page that says why a report was refused, for failures where the form cannot be shown
/// again (rate limit, oversized body, a server fault).
pub fn error_page(lang: Lang, e: &ApiError) -> Response {
    let t = text(lang);
    let body = format!(
        "<h1>{}</h1>{}<p class=\"emergency\">{}</p><p><a href=\"/report?lang={}\">{}</a></p>",
        esc(t.not_sent),
        error_box(t, e),
        esc(t.emergency),
        lang.code(),
        esc(t.new_report)
    );
    page(lang, e.status, t.not_sent, &body, "/report")
}

/// The page after a report was stored: its code, and where to check it.
pub fn receipt_page(lang: Lang, code: &ReportCode, created: bool) -> Response {
    let t = text(lang);
    let body = format!(
        "<h1>{}</h1><p>{}</p><p class=\"code\">{}</p><p>{}</p>\
         <p><a href=\"/report/status?lang={}&amp;code={}\">{}</a></p>",
        esc(t.received),
        esc(if created { t.your_code } else { t.already }),
        esc(code.as_str()),
        esc(t.keep_code),
        lang.code(),
        esc(code.as_str()),
        esc(t.check_status),
    );
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    page(lang, status, t.received, &body, "/report/status")
}

/// Step 1: choose the district (regions as groups).
async fn district_step(state: &AppState, lang: Lang) -> Result<String, ApiError> {
    district_picker(state, lang, "/report").await
}

/// A form that picks the district (regions as groups) and goes on to `action` with it.
pub(crate) async fn district_picker(
    state: &AppState,
    lang: Lang,
    action: &'static str,
) -> Result<String, ApiError> {
    let t = text(lang);
    let mut options = String::new();
    let mut count = 0;
    for region in state.store.list_regions().await? {
        let districts = state.store.list_districts(region.id).await?;
        if districts.is_empty() {
            continue;
        }
        let _ = write!(
            options,
            "<optgroup label=\"{}\">",
            esc(region.names.get(lang.names()))
        );
        for d in districts {
            count += 1;
            let _ = write!(
                options,
                "<option value=\"{}\">{}</option>",
                d.id,
                esc(d.names.get(lang.names()))
            );
        }
        options.push_str("</optgroup>");
    }
    if count == 0 {
        return Ok(format!("<p>{}</p>", esc(t.no_places)));
    }
    Ok(format!(
        "<form method=\"get\" action=\"{action}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label for=\"district\">{}</label><select id=\"district\" name=\"district\" required>{options}</select>\
         <button type=\"submit\">{}</button></form>",
        lang.code(),
        esc(t.district),
        esc(t.next)
    ))
}

/// The only district, when there is exactly one (then step 1 is skipped).
pub(crate) async fn only_district(state: &AppState) -> Result<Option<DistrictId>, ApiError> {
    let mut found = None;
    for region in state.store.list_regions().await? {
        for d in state.store.list_districts(region.id).await? {
            if found.is_some() {
                return Ok(None);
            }
            found = Some(d.id);
        }
    }
    Ok(found)
}

pub(crate) fn selected(on: bool) -> &'static str {
    if on { " selected" } else { "" }
}

fn checked(on: bool) -> &'static str {
    if on { " checked" } else { "" }
}

/// Step 2: the report form for one district's mahallas, filled with `v` (after an error).
async fn report_form(
    state: &AppState,
    lang: Lang,
    district: DistrictId,
    v: &ReportForm,
) -> Result<String, ApiError> {
    let t = text(lang);
    let mahallas = state.store.list_mahallas(district).await?;
    let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
    let mut m_opts = String::from("<option value=\"\"></option>");
    for m in &mahallas {
        let id = m.id.to_string();
        let _ = write!(
            m_opts,
            "<option value=\"{id}\"{}>{}</option>",
            selected(v.mahalla.as_deref() == Some(id.as_str())),
            esc(m.names.get(lang.names()))
        );
    }
    let mut c_opts = String::new();
    for c in Category::ALL {
        let _ = write!(
            c_opts,
            "<option value=\"{}\"{}>{}</option>",
            c.as_str(),
            selected(v.category.as_deref() == Some(c.as_str())),
            esc(category_name(lang, *c))
        );
    }
    let max = domain::report::MAX_REPORT_NARRATIVE_CHARS;
    Ok(format!(
        "<form method=\"post\" action=\"/public/reports\" accept-charset=\"utf-8\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\"><input type=\"hidden\" name=\"district\" value=\"{district}\">\
         <label for=\"mahalla\">{l_mahalla}</label><select id=\"mahalla\" name=\"mahalla\" required>{m_opts}</select>\
         {change}\
         <label for=\"category\">{l_category}</label><select id=\"category\" name=\"category\" required>{c_opts}</select>\
         <label for=\"narrative\">{l_what}</label><textarea id=\"narrative\" name=\"narrative\" maxlength=\"{max}\" required>{narrative}</textarea>\
         <label for=\"occurred_at\">{l_when}</label><input type=\"datetime-local\" id=\"occurred_at\" name=\"occurred_at\" value=\"{occurred}\" required>\
         <fieldset><legend>{l_point}</legend>\
         <label for=\"lat\">{l_lat}</label><input type=\"text\" inputmode=\"decimal\" id=\"lat\" name=\"lat\" value=\"{lat}\">\
         <label for=\"lon\">{l_lon}</label><input type=\"text\" inputmode=\"decimal\" id=\"lon\" name=\"lon\" value=\"{lon}\"></fieldset>\
         <fieldset><legend>{l_affected}</legend>\
         <label class=\"check\"><input type=\"checkbox\" name=\"affected_minor\" value=\"1\"{minor}> {l_minor}</label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"affected_youth\" value=\"1\"{youth}> {l_youth}</label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"affected_woman\" value=\"1\"{woman}> {l_woman}</label></fieldset>\
         <label class=\"check\"><input type=\"checkbox\" name=\"anonymous\" value=\"1\"{anon}> {l_anon}</label>\
         <span class=\"hint\">{l_anon_hint}</span>\
         <label for=\"contact\">{l_contact} <span class=\"hint\">{l_contact_hint}</span></label>\
         <input type=\"text\" id=\"contact\" name=\"contact\" autocomplete=\"tel\" value=\"{contact}\">\
         <button type=\"submit\">{l_submit}</button></form>",
        lang = lang.code(),
        l_mahalla = esc(t.mahalla),
        change = if only_district(state).await?.is_some() {
            String::new()
        } else {
            format!(
                "<p><a href=\"/report?lang={}&amp;district=0\">{}</a></p>",
                lang.code(),
                esc(t.change_district)
            )
        },
        l_category = esc(t.category),
        l_what = esc(t.what),
        narrative = val(&v.narrative),
        l_when = esc(t.when),
        occurred = val(&v.occurred_at),
        l_point = esc(t.point),
        l_lat = esc(t.lat),
        lat = val(&v.lat),
        l_lon = esc(t.lon),
        lon = val(&v.lon),
        l_affected = esc(t.affected),
        minor = checked(v.affected_minor.is_some()),
        l_minor = esc(t.minor),
        youth = checked(v.affected_youth.is_some()),
        l_youth = esc(t.youth),
        woman = checked(v.affected_woman.is_some()),
        l_woman = esc(t.woman),
        anon = checked(v.anonymous.is_some()),
        l_anon = esc(t.anonymous),
        l_anon_hint = esc(t.anonymous_hint),
        l_contact = esc(t.contact),
        l_contact_hint = esc(t.contact_hint),
        contact = val(&v.contact),
        l_submit = esc(t.submit),
    ))
}

fn intro(t: &Text) -> String {
    format!(
        "<h1>{}</h1><p>{}</p><p class=\"emergency\">{}</p><p class=\"hint\">{}</p>",
        esc(t.title),
        esc(t.intro),
        esc(t.emergency),
        esc(t.privacy)
    )
}

fn status_link(lang: Lang, t: &Text) -> String {
    format!(
        "<p><a href=\"/report/status?lang={}\">{}</a></p>",
        lang.code(),
        esc(t.check_status)
    )
}

/// Renders the form again after a refused submission, with what was typed and the reason.
pub async fn form_again(state: &AppState, lang: Lang, f: &ReportForm, e: &ApiError) -> Response {
    let t = text(lang);
    let district = f
        .district
        .as_deref()
        .and_then(|d| d.trim().parse::<i64>().ok())
        .map(DistrictId);
    let form = match district {
        Some(d) => report_form(state, lang, d, f).await,
        None => district_step(state, lang).await,
    };
    match form {
        Ok(form) => {
            let body = format!("{}{}{form}", intro(t), error_box(t, e));
            let here = district.map_or("/report".to_owned(), |d| format!("/report?district={d}"));
            page(lang, e.status, t.title, &body, &here)
        }
        Err(inner) => error_page(lang, &inner),
    }
}

/// `GET /report?lang=uz|ru|en&district=ID`: step 1 picks the district, step 2 is the form.
pub async fn report_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::pick(q.get("lang").map(String::as_str));
    let t = text(lang);
    let district = match q
        .get("district")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        Some(d) => d.parse::<i64>().ok().map(DistrictId),
        None => match only_district(&state).await {
            Ok(d) => d,
            Err(e) => return error_page(lang, &e),
        },
    };
    let district = match district {
        Some(d) => match state.store.get_district(d).await {
            Ok(Some(_)) => Some(d),
            Ok(None) => None,
            Err(e) => return error_page(lang, &ApiError::from(e)),
        },
        None => None,
    };
    let form = match district {
        Some(d) => report_form(&state, lang, d, &ReportForm::default()).await,
        None => district_step(&state, lang).await,
    };
    match form {
        Ok(form) => {
            let body = format!("{}{form}{}", intro(t), status_link(lang, t));
            let here = district.map_or("/report".to_owned(), |d| format!("/report?district={d}"));
            page(lang, StatusCode::OK, t.title, &body, &here)
        }
        Err(e) => error_page(lang, &e),
    }
}

/// `GET /report/status?lang=..&code=R-...`: a form for the code, and the status when given.
pub async fn status_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::pick(q.get("lang").map(String::as_str));
    let code = q.get("code").map(|c| c.trim()).filter(|c| !c.is_empty());
    let found = match code {
        Some(c) => Some(lookup(&state, peer.ip(), c).await.map(|r| PublicStatus {
            code: r.code,
            status: r.status,
            reason: r.reject_reason,
            submitted_at: r.submitted_at,
        })),
        None => None,
    };
    status_page_for(lang, code, found, "/report")
}

/// What a status page shows of a report: no more than the public JSON answer.
pub(crate) struct PublicStatus {
    pub code: ReportCode,
    pub status: ReportStatus,
    pub reason: Option<RejectReason>,
    pub submitted_at: domain::Timestamp,
}

/// The status page of the reports sent through `base` (`/report`, `/fraud`): a form for the
/// code, and what was `found` for the code typed.
pub(crate) fn status_page_for(
    lang: Lang,
    code: Option<&str>,
    found: Option<Result<PublicStatus, ApiError>>,
    base: &'static str,
) -> Response {
    let t = text(lang);
    let mut result = String::new();
    let mut status = StatusCode::OK;
    match found {
        Some(Ok(r)) => {
            let _ = write!(
                result,
                "<dl><dt>{}</dt><dd class=\"code\">{}</dd><dt>{}</dt><dd>{}</dd>",
                esc(t.code),
                esc(r.code.as_str()),
                esc(t.status),
                esc(status_text(lang, r.status)),
            );
            if let Some(reason) = r.reason {
                let _ = write!(
                    result,
                    "<dt>{}</dt><dd>{}</dd>",
                    esc(t.reason),
                    esc(reason_text(lang, reason))
                );
            }
            let _ = write!(
                result,
                "<dt>{}</dt><dd>{}</dd></dl>",
                esc(t.sent_on),
                esc(&r.submitted_at.to_string()[..10])
            );
        }
        Some(Err(e)) => {
            status = e.status;
            result = error_box(t, &e);
        }
        None => {}
    }
    let body = format!(
        "<h1>{}</h1>{result}<form method=\"get\" action=\"{base}/status\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label for=\"code\">{}</label><input type=\"text\" id=\"code\" name=\"code\" value=\"{}\" \
         autocapitalize=\"characters\" autocomplete=\"off\" spellcheck=\"false\" required>\
         <button type=\"submit\">{}</button></form><p><a href=\"{base}?lang={}\">{}</a></p>",
        esc(t.status_title),
        lang.code(),
        esc(t.code),
        esc(code.unwrap_or("")),
        esc(t.check),
        lang.code(),
        esc(t.new_report),
    );
    let here = match code {
        Some(c) => format!("{base}/status?code={}", encode_query(c)),
        None => format!("{base}/status"),
    };
    page(lang, status, t.status_title, &body, &here)
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
