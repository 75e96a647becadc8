//! The public fraud pages: `/fraud` (a victim's report: a form that works without JavaScript),
//! `/fraud/status` (the report's status by its code) and `/check` (is this number, card, link or
//! handle reported? answered in the browser from a hash prefix, with plain advice for each kind
//! of scam and where to report). Uzbek (Latin) by default, Russian and English with `?lang=`.
//! Built on the citizen report pages' helpers ([`crate::public_pages`]): the same layout,
//! escaping, security headers, district step and status page.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cyber::IndicatorKind;
use domain::{Channel, DistrictId, MahallaId};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::fraud::{Refusal, Submission, Typed, check_submission, store_report};
use crate::public_pages::{
    Lang, PublicStatus, district_picker, encode_query, esc, only_district, page, problem_box,
    selected, status_page_for,
};
use crate::reports::parse_form_time;

/// The fraud pages' words.
struct Text {
    title: &'static str,
    intro: &'static str,
    bank_first: &'static str,
    privacy: &'static str,
    mahalla: &'static str,
    change_district: &'static str,
    when: &'static str,
    amount: &'static str,
    channel: &'static str,
    what: &'static str,
    what_hint: &'static str,
    used: &'static str,
    phone: &'static str,
    card: &'static str,
    iban: &'static str,
    link: &'static str,
    handle: &'static str,
    wallet: &'static str,
    contact: &'static str,
    contact_hint: &'static str,
    submit: &'static str,
    received: &'static str,
    already: &'static str,
    your_code: &'static str,
    keep_code: &'static str,
    recognised: &'static str,
    check_status: &'static str,
    check_title: &'static str,
    check_intro: &'static str,
    check_how: &'static str,
    check_nojs: &'static str,
    check_kind: &'static str,
    check_value: &'static str,
    check_button: &'static str,
    found: &'static str,
    not_found: &'static str,
    not_safe: &'static str,
    advice: &'static str,
    invalid: &'static str,
    failed: &'static str,
    report_it: &'static str,
    advice_title: &'static str,
    not_sent: &'static str,
    problem: &'static str,
    new_report: &'static str,
}

const UZ: Text = Text {
    title: "Firibgarlik haqida xabar berish",
    intro: "Agar sizni telefon, SMS, messenjer, savdo maydonchasi, ijtimoiy tarmoq yoki soxta sayt orqali aldashgan bo'lsa, bizga xabar bering. Ro'yxatdan o'tish shart emas. Siz bergan raqamlar, kartalar va havolalar boshqa xabarlar bilan solishtiriladi va boshqalarni ogohlantirishga yordam beradi.",
    bank_first: "Pul o'tkazgan bo'lsangiz, avval bankingizga qo'ng'iroq qilib kartani bloklang: har bir daqiqa muhim. Favqulodda holatda 102 raqamiga qo'ng'iroq qiling.",
    privacy: "Biz IP manzilingizni saqlamaymiz. Karta raqamlari saqlanmaydi: faqat birinchi olti va oxirgi to'rt raqami.",
    mahalla: "Mahallangiz",
    change_district: "Boshqa tumanni tanlash",
    when: "Qachon sodir bo'ldi",
    amount: "Yo'qotilgan summa, so'm (yo'qotilmagan bo'lsa 0)",
    channel: "Siz bilan qanday bog'lanishdi",
    what: "Nima bo'lganini yozing",
    what_hint: "Ularning xabarlarini shu yerga qo'yishingiz mumkin.",
    used: "Firibgar nimadan foydalangan (bilganingizni to'ldiring)",
    phone: "Telefon raqami",
    card: "Pul o'tkazilgan karta raqami",
    iban: "Bank hisobi (IBAN)",
    link: "Havola yoki sayt",
    handle: "Telegram foydalanuvchi nomi",
    wallet: "Kripto hamyon",
    contact: "Telefon yoki e-pochtangiz (ixtiyoriy)",
    contact_hint: "Uni faqat xabaringizni ko'rib chiquvchi xodim ko'radi.",
    submit: "Yuborish",
    received: "Xabaringiz qabul qilindi",
    already: "Bu xabar avvalroq qabul qilingan edi; uning kodi:",
    your_code: "Xabaringiz kodi:",
    keep_code: "Bu kodni saqlab qo'ying: u orqali xabaringiz holatini bilishingiz mumkin.",
    recognised: "Biz aniqlagan ma'lumotlar:",
    check_status: "Xabar holatini tekshirish",
    check_title: "Raqam, karta yoki havolani tekshirish",
    check_intro: "Pul o'tkazishdan oldin tekshiring: bu telefon raqami, karta, sayt yoki Telegram nomi firibgarlikda ishlatilgani haqida xabar berilganmi?",
    check_how: "Tekshiruv brauzeringizda bajariladi: serverga yozganingiz emas, faqat uning xeshining bir necha belgisi yuboriladi.",
    check_nojs: "Tekshirish uchun JavaScript kerak. Quyidagi maslahatlar baribir foydali.",
    check_kind: "Nimani tekshiramiz",
    check_value: "Raqam, karta, havola yoki nom",
    check_button: "Tekshirish",
    found: "Diqqat: bu firibgarlikda ishlatilgani haqida xabar berilgan.",
    not_found: "Bu haqda hozircha xabar berilmagan.",
    not_safe: "Bu uning xavfsiz ekanini anglatmaydi.",
    advice: "Maslahat:",
    invalid: "Buni o'qib bo'lmadi: yozilishini tekshiring.",
    failed: "Tekshiruv bajarilmadi. Birozdan keyin qayta urinib ko'ring.",
    report_it: "Sizni aldashganmi? Xabar bering",
    advice_title: "Firibgarlik qanday ko'rinadi va nima qilish kerak",
    not_sent: "Xabar yuborilmadi",
    problem: "Muammo",
    new_report: "Yangi xabar yuborish",
};

const RU: Text = Text {
    title: "Сообщить о мошенничестве",
    intro: "Если вас обманули по телефону, SMS, в мессенджере, на торговой площадке, в соцсети или на поддельном сайте, сообщите нам. Регистрация не нужна. Номера, карты и ссылки, которые вы укажете, сверяются с другими сообщениями и помогают предупредить других.",
    bank_first: "Если вы перевели деньги, сначала позвоните в банк и заблокируйте карту: важна каждая минута. В экстренной ситуации звоните 102.",
    privacy: "Мы не храним ваш IP-адрес. Номера карт не хранятся: только первые шесть и последние четыре цифры.",
    mahalla: "Ваша махалля",
    change_district: "Выбрать другой район",
    when: "Когда это произошло",
    amount: "Потерянная сумма, сум (0, если ничего)",
    channel: "Как с вами связались",
    what: "Опишите, что произошло",
    what_hint: "Можно вставить сюда их сообщения.",
    used: "Что использовал мошенник (заполните, что знаете)",
    phone: "Номер телефона",
    card: "Номер карты, на которую вы перевели",
    iban: "Банковский счёт (IBAN)",
    link: "Ссылка или сайт",
    handle: "Имя пользователя Telegram",
    wallet: "Криптокошелёк",
    contact: "Ваш телефон или e-mail (необязательно)",
    contact_hint: "Их увидит только сотрудник, который рассматривает сообщение.",
    submit: "Отправить",
    received: "Ваше сообщение принято",
    already: "Это сообщение уже было принято ранее; его код:",
    your_code: "Код вашего сообщения:",
    keep_code: "Сохраните этот код: по нему можно узнать статус сообщения.",
    recognised: "Мы распознали:",
    check_status: "Проверить статус сообщения",
    check_title: "Проверить номер, карту или ссылку",
    check_intro: "Проверьте перед переводом: сообщали ли, что этот номер телефона, карту, сайт или имя в Telegram использовали мошенники?",
    check_how: "Проверка идёт в вашем браузере: на сервер уходит не то, что вы ввели, а лишь несколько знаков его хеша.",
    check_nojs: "Для проверки нужен JavaScript. Советы ниже полезны и без него.",
    check_kind: "Что проверяем",
    check_value: "Номер, карта, ссылка или имя",
    check_button: "Проверить",
    found: "Осторожно: сообщали, что это использовали мошенники.",
    not_found: "Об этом пока не сообщали.",
    not_safe: "Это не значит, что это безопасно.",
    advice: "Советы:",
    invalid: "Не удалось прочитать: проверьте, как написано.",
    failed: "Проверка не удалась. Попробуйте чуть позже.",
    report_it: "Вас обманули? Сообщите",
    advice_title: "Как выглядит мошенничество и что делать",
    not_sent: "Сообщение не отправлено",
    problem: "Проблема",
    new_report: "Отправить новое сообщение",
};

const EN: Text = Text {
    title: "Report a fraud",
    intro: "If someone deceived you by phone, SMS, a messenger, on a marketplace, a social network or a fake website, tell us. No account is needed. The numbers, cards and links you give are compared with other reports and help warn others.",
    bank_first: "If you sent money, first call your bank and block the card: every minute counts. In an emergency call 102.",
    privacy: "We do not store your IP address. Card numbers are never stored: only their first six and last four digits.",
    mahalla: "Your mahalla",
    change_district: "Choose another district",
    when: "When it happened",
    amount: "Amount lost, so'm (0 if nothing)",
    channel: "How they contacted you",
    what: "What happened",
    what_hint: "You may paste their messages here.",
    used: "What the fraudster used (fill in what you know)",
    phone: "Phone number",
    card: "Card number you paid to",
    iban: "Bank account (IBAN)",
    link: "Link or website",
    handle: "Telegram username",
    wallet: "Crypto wallet",
    contact: "Your phone or e-mail (optional)",
    contact_hint: "Only the officer who reviews your report sees it.",
    submit: "Send",
    received: "Your report was received",
    already: "This report had already been received; its code:",
    your_code: "Your report's code:",
    keep_code: "Keep this code: with it you can check your report's status.",
    recognised: "We recognised:",
    check_status: "Check a report's status",
    check_title: "Check a number, card or link",
    check_intro: "Check before you pay: has this phone number, card, website or Telegram name been reported as used in fraud?",
    check_how: "The check runs in your browser: the server is sent only a few characters of a hash, not what you typed.",
    check_nojs: "The check needs JavaScript. The advice below helps without it.",
    check_kind: "What to check",
    check_value: "Number, card, link or name",
    check_button: "Check",
    found: "Careful: this has been reported as used in fraud.",
    not_found: "Not reported so far.",
    not_safe: "That does not mean it is safe.",
    advice: "Advice:",
    invalid: "This could not be read: check how it is written.",
    failed: "The check did not work. Try again in a moment.",
    report_it: "Were you deceived? Report it",
    advice_title: "What fraud looks like, and what to do",
    not_sent: "The report was not sent",
    problem: "Problem",
    new_report: "Send a new report",
};

fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::Uz => &UZ,
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

fn channel_name(lang: Lang, c: Channel) -> &'static str {
    use Channel::*;
    match (lang, c) {
        (Lang::Uz, Call) => "Telefon qo'ng'irog'i",
        (Lang::Uz, Sms) => "SMS",
        (Lang::Uz, Messenger) => "Messenjer (Telegram, WhatsApp...)",
        (Lang::Uz, Marketplace) => "Savdo maydonchasi (OLX, Uzum...)",
        (Lang::Uz, SocialNetwork) => "Ijtimoiy tarmoq",
        (Lang::Uz, FakeSite) => "Soxta sayt",
        (Lang::Uz, Other) => "Boshqa",
        (Lang::Ru, Call) => "Звонок",
        (Lang::Ru, Sms) => "SMS",
        (Lang::Ru, Messenger) => "Мессенджер (Telegram, WhatsApp...)",
        (Lang::Ru, Marketplace) => "Торговая площадка (OLX, Uzum...)",
        (Lang::Ru, SocialNetwork) => "Соцсеть",
        (Lang::Ru, FakeSite) => "Поддельный сайт",
        (Lang::Ru, Other) => "Другое",
        (Lang::En, Call) => "Phone call",
        (Lang::En, Sms) => "SMS",
        (Lang::En, Messenger) => "Messenger (Telegram, WhatsApp...)",
        (Lang::En, Marketplace) => "Marketplace (OLX, Uzum...)",
        (Lang::En, SocialNetwork) => "Social network",
        (Lang::En, FakeSite) => "Fake website",
        (Lang::En, Other) => "Other",
    }
}

/// The form's indicator fields: (form field, kind, label).
fn indicator_fields(t: &Text) -> [(&'static str, IndicatorKind, &'static str); 6] {
    [
        ("phone", IndicatorKind::Phone, t.phone),
        ("card", IndicatorKind::Card, t.card),
        ("iban", IndicatorKind::Iban, t.iban),
        ("link", IndicatorKind::Link, t.link),
        ("handle", IndicatorKind::Handle, t.handle),
        ("wallet", IndicatorKind::Wallet, t.wallet),
    ]
}

/// A fraud report as the `/fraud` form sends it: every field text.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FraudForm {
    pub lang: Option<String>,
    pub district: Option<String>,
    pub mahalla: Option<String>,
    /// `YYYY-MM-DDTHH:MM` in Uzbekistan's time.
    pub occurred_at: Option<String>,
    /// So'm, as people write it: `1 500 000`, `1500000,50`.
    pub amount: Option<String>,
    pub channel: Option<String>,
    pub narrative: Option<String>,
    pub phone: Option<String>,
    pub card: Option<String>,
    pub iban: Option<String>,
    pub link: Option<String>,
    pub handle: Option<String>,
    pub wallet: Option<String>,
    pub contact: Option<String>,
    /// Drawn when the form is shown, so that sending it twice stores one report.
    pub idempotency_key: Option<String>,
}

impl FraudForm {
    fn get(&self, field: &str) -> Option<&str> {
        let v = match field {
            "phone" => &self.phone,
            "card" => &self.card,
            "iban" => &self.iban,
            "link" => &self.link,
            "handle" => &self.handle,
            "wallet" => &self.wallet,
            _ => return None,
        };
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

fn non_empty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn refuse(field: &str, error: String, fix: &str) -> Refusal {
    Refusal {
        field: Some(field.to_owned()),
        error: ApiError::bad_request(error, fix),
    }
}

/// So'm as people type them (`1 500 000`, `1,500,000`, `1500000.50`, `1 500 000,5`) in tiyin.
pub fn parse_som(raw: &str) -> Option<i64> {
    let s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '_' | '\u{2019}'))
        .collect();
    let s = s
        .trim_end_matches(|c: char| c.is_alphabetic() || c == '\'' || c == '.')
        .to_owned();
    // A comma or dot followed by one or two digits at the end is the decimal point; other
    // commas and dots group thousands.
    let (whole, frac) = match s.rfind([',', '.']) {
        Some(i) if s.len() - i - 1 <= 2 && s.len() - i > 1 => (&s[..i], &s[i + 1..]),
        _ => (s.as_str(), ""),
    };
    let whole: String = whole.chars().filter(|c| *c != ',' && *c != '.').collect();
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let som: i64 = whole.parse().ok()?;
    let tiyin = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    som.checked_mul(100)?.checked_add(tiyin)
}

impl FraudForm {
    /// The same report as the JSON would carry it, or what is wrong with the form (naming
    /// the field).
    fn to_submission(&self, t: &Text) -> Result<Submission, Refusal> {
        let mahalla = non_empty(&self.mahalla)
            .and_then(|m| m.parse::<i64>().ok())
            .map(MahallaId)
            .ok_or_else(|| {
                refuse(
                    "mahalla",
                    "your mahalla is missing".into(),
                    "choose it from the list",
                )
            })?;
        let occurred_at = parse_form_time(non_empty(&self.occurred_at).ok_or_else(|| {
            refuse(
                "occurred_at",
                "when it happened is missing".into(),
                "give the date and time, even roughly",
            )
        })?)
        .map_err(|e| Refusal {
            field: Some("occurred_at".into()),
            error: e,
        })?;
        let amount = non_empty(&self.amount).unwrap_or("0");
        let amount_lost = parse_som(amount).ok_or_else(|| {
            refuse(
                "amount",
                format!("the amount lost {amount:?} is not a number of so'm"),
                "write the amount in so'm with digits, e.g. 1 500 000, or 0",
            )
        })?;
        let channel = non_empty(&self.channel)
            .unwrap_or("")
            .parse::<Channel>()
            .map_err(|e| refuse("channel", e.to_string(), "choose one from the list"))?;
        let typed = indicator_fields(t)
            .into_iter()
            .filter_map(|(field, kind, _)| {
                self.get(field).map(|v| Typed {
                    field: field.to_owned(),
                    kind,
                    value: v.to_owned(),
                })
            })
            .collect();
        Ok(Submission {
            occurred_at,
            amount_lost,
            channel,
            narrative: self.narrative.clone().unwrap_or_default(),
            mahalla,
            contact: non_empty(&self.contact).map(str::to_owned),
            typed,
            idempotency_key: non_empty(&self.idempotency_key).map(str::to_owned),
        })
    }
}

fn intro(t: &Text) -> String {
    format!(
        "<h1>{}</h1><p>{}</p><p class=\"emergency\">{}</p><p class=\"hint\">{}</p>",
        esc(t.title),
        esc(t.intro),
        esc(t.bank_first),
        esc(t.privacy)
    )
}

fn links(lang: Lang, t: &Text) -> String {
    format!(
        "<p><a href=\"/fraud/status?lang={l}\">{}</a> · <a href=\"/check?lang={l}\">{}</a></p>",
        esc(t.check_status),
        esc(t.check_title),
        l = lang.code(),
    )
}

fn random_key() -> String {
    crate::auth::random_hex(16)
}

/// Step 2: the form for one district's mahallas, filled with `v`, the field at fault marked.
async fn fraud_form(
    state: &AppState,
    lang: Lang,
    district: DistrictId,
    v: &FraudForm,
    bad_field: Option<&str>,
) -> Result<String, ApiError> {
    let t = text(lang);
    let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
    let invalid = |f: &str| {
        if bad_field == Some(f) {
            " aria-invalid=\"true\" class=\"invalid\""
        } else {
            ""
        }
    };
    let mut m_opts = String::from("<option value=\"\"></option>");
    for m in state.store.list_mahallas(district).await? {
        let id = m.id.to_string();
        let _ = write!(
            m_opts,
            "<option value=\"{id}\"{}>{}</option>",
            selected(v.mahalla.as_deref() == Some(id.as_str())),
            esc(m.names.get(lang.names()))
        );
    }
    let mut c_opts = String::new();
    for c in Channel::ALL {
        let _ = write!(
            c_opts,
            "<option value=\"{}\"{}>{}</option>",
            c.as_str(),
            selected(v.channel.as_deref() == Some(c.as_str())),
            esc(channel_name(lang, *c))
        );
    }
    let mut ind_inputs = String::new();
    for (field, _, label) in indicator_fields(t) {
        let _ = write!(
            ind_inputs,
            "<label for=\"{field}\">{}</label><input type=\"text\" id=\"{field}\" name=\"{field}\" value=\"{}\" \
             autocomplete=\"off\" spellcheck=\"false\"{}>",
            esc(label),
            esc(v.get(field).unwrap_or("")),
            invalid(field)
        );
    }
    let change = if only_district(state).await?.is_some() {
        String::new()
    } else {
        format!(
            "<p><a href=\"/fraud?lang={}&amp;district=0\">{}</a></p>",
            lang.code(),
            esc(t.change_district)
        )
    };
    let key = v.idempotency_key.clone().unwrap_or_else(random_key);
    Ok(format!(
        "<form method=\"post\" action=\"/public/fraud-reports\" accept-charset=\"utf-8\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\"><input type=\"hidden\" name=\"district\" value=\"{district}\">\
         <input type=\"hidden\" name=\"idempotency_key\" value=\"{key}\">\
         <label for=\"mahalla\">{l_mahalla}</label><select id=\"mahalla\" name=\"mahalla\" required{i_mahalla}>{m_opts}</select>{change}\
         <label for=\"occurred_at\">{l_when}</label><input type=\"datetime-local\" id=\"occurred_at\" name=\"occurred_at\" value=\"{occurred}\" required{i_when}>\
         <label for=\"amount\">{l_amount}</label><input type=\"text\" inputmode=\"decimal\" id=\"amount\" name=\"amount\" value=\"{amount}\"{i_amount}>\
         <label for=\"channel\">{l_channel}</label><select id=\"channel\" name=\"channel\" required{i_channel}>{c_opts}</select>\
         <label for=\"narrative\">{l_what} <span class=\"hint\">{l_what_hint}</span></label>\
         <textarea id=\"narrative\" name=\"narrative\" maxlength=\"{max}\" required{i_what}>{narrative}</textarea>\
         <fieldset><legend>{l_used}</legend>{ind_inputs}</fieldset>\
         <label for=\"contact\">{l_contact} <span class=\"hint\">{l_contact_hint}</span></label>\
         <input type=\"text\" id=\"contact\" name=\"contact\" autocomplete=\"tel\" value=\"{contact}\"{i_contact}>\
         <button type=\"submit\">{l_submit}</button></form>",
        lang = lang.code(),
        key = esc(&key),
        l_mahalla = esc(t.mahalla),
        i_mahalla = invalid("mahalla"),
        l_when = esc(t.when),
        occurred = val(&v.occurred_at),
        i_when = invalid("occurred_at"),
        l_amount = esc(t.amount),
        amount = val(&v.amount),
        i_amount = invalid("amount"),
        l_channel = esc(t.channel),
        i_channel = invalid("channel"),
        l_what = esc(t.what),
        l_what_hint = esc(t.what_hint),
        max = domain::fraud::MAX_FRAUD_NARRATIVE_CHARS,
        i_what = invalid("narrative"),
        narrative = val(&v.narrative),
        l_used = esc(t.used),
        l_contact = esc(t.contact),
        l_contact_hint = esc(t.contact_hint),
        contact = val(&v.contact),
        i_contact = invalid("contact"),
        l_submit = esc(t.submit),
    ))
}

fn picked_district(raw: Option<&str>) -> Option<DistrictId> {
    raw.map(str::trim)
        .filter(|d| !d.is_empty())
        .and_then(|d| d.parse::<i64>().ok())
        .map(DistrictId)
}

/// `GET /fraud?lang=uz|ru|en&district=ID`: step 1 picks the district, step 2 is the form.
pub async fn fraud_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::pick(q.get("lang").map(String::as_str));
    let t = text(lang);
    let district = match q.get("district") {
        Some(d) => picked_district(Some(d.as_str())),
        None => match only_district(&state).await {
            Ok(d) => d,
            Err(e) => return error_page(lang, &e),
        },
    };
    let district = match district {
        Some(d) => match state.store.get_district(d).await {
            Ok(found) => found.map(|_| d),
            Err(e) => return error_page(lang, &ApiError::from(e)),
        },
        None => None,
    };
    let form = match district {
        Some(d) => fraud_form(&state, lang, d, &FraudForm::default(), None).await,
        None => district_picker(&state, lang, "/fraud").await,
    };
    match form {
        Ok(form) => {
            let body = format!("{}{form}{}", intro(t), links(lang, t));
            let here = district.map_or("/fraud".to_owned(), |d| format!("/fraud?district={d}"));
            page(lang, StatusCode::OK, t.title, &body, &here)
        }
        Err(e) => error_page(lang, &e),
    }
}

/// A page that says why a report was refused where the form cannot be shown again.
pub fn error_page(lang: Lang, e: &ApiError) -> Response {
    let t = text(lang);
    let body = format!(
        "<h1>{}</h1>{}<p class=\"emergency\">{}</p><p><a href=\"/fraud?lang={}\">{}</a></p>",
        esc(t.not_sent),
        problem_box(t.problem, e),
        esc(t.bank_first),
        lang.code(),
        esc(t.new_report)
    );
    page(lang, e.status, t.not_sent, &body, "/fraud")
}

/// The form sent to `POST /public/fraud-reports`: a receipt page, or the form again with the
/// field at fault marked and the reason.
pub async fn submit_form(state: &AppState, body: &[u8]) -> Response {
    let form: FraudForm = match serde_urlencoded::from_bytes(body) {
        Ok(f) => f,
        Err(e) => {
            return error_page(
                Lang::default(),
                &ApiError::bad_request(
                    format!("the form could not be read: {e}"),
                    "use the form at /fraud",
                ),
            );
        }
    };
    let lang = Lang::pick(form.lang.as_deref());
    let t = text(lang);
    let result = async {
        let s = form.to_submission(t)?;
        let r = check_submission(state, s).await?;
        Ok::<_, Refusal>(store_report(state, &r).await?)
    }
    .await;
    match result {
        Ok(s) => receipt_page(lang, &s),
        Err(r) if r.error.status.is_server_error() => error_page(lang, &r.error),
        Err(r) => form_again(state, lang, &form, &r).await,
    }
}

async fn form_again(state: &AppState, lang: Lang, f: &FraudForm, r: &Refusal) -> Response {
    let t = text(lang);
    let Some(district) = picked_district(f.district.as_deref()) else {
        return error_page(lang, &r.error);
    };
    match fraud_form(state, lang, district, f, r.field.as_deref()).await {
        Ok(form) => {
            let body = format!("{}{}{form}", intro(t), problem_box(t.problem, &r.error));
            page(
                lang,
                r.error.status,
                t.title,
                &body,
                &format!("/fraud?district={district}"),
            )
        }
        Err(e) => error_page(lang, &e),
    }
}

fn receipt_page(lang: Lang, s: &store::FraudSubmitted) -> Response {
    let t = text(lang);
    let code = s.report.code.as_str();
    let mut found = String::new();
    if !s.report.indicators.is_empty() {
        let _ = write!(found, "<p>{}</p><ul>", esc(t.recognised));
        for i in &s.report.indicators {
            let _ = write!(
                found,
                "<li>{}: <code>{}</code></li>",
                esc(&i.kind),
                esc(&i.value)
            );
        }
        found.push_str("</ul>");
    }
    let body = format!(
        "<h1>{}</h1><p>{}</p><p class=\"code\">{}</p><p>{}</p>{found}\
         <p><a href=\"/fraud/status?lang={l}&amp;code={}\">{}</a></p><p class=\"emergency\">{}</p>",
        esc(t.received),
        esc(if s.created { t.your_code } else { t.already }),
        esc(code),
        esc(t.keep_code),
        encode_query(code),
        esc(t.check_status),
        esc(t.bank_first),
        l = lang.code(),
    );
    let status = if s.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    page(lang, status, t.received, &body, "/fraud/status")
}

/// `GET /fraud/status?lang=..&code=R-...`
pub async fn status_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::pick(q.get("lang").map(String::as_str));
    let code = q.get("code").map(|c| c.trim()).filter(|c| !c.is_empty());
    let found = match code {
        Some(c) => Some(
            crate::fraud::lookup(&state, peer.ip(), c)
                .await
                .map(|r| PublicStatus {
                    code: r.code,
                    status: r.status,
                    reason: r.reject_reason,
                    submitted_at: r.submitted_at,
                }),
        ),
        None => None,
    };
    status_page_for(lang, code, found, "/fraud")
}

/// One piece of advice: its anchor (a kind or a channel), title and sentences.
struct Advice {
    id: &'static str,
    title: [&'static str; 3],
    body: [&'static str; 3],
}

/// Plain advice per kind of indicator and per channel, in Uzbek, Russian and English.
const ADVICE: &[Advice] = &[
    Advice {
        id: "phone",
        title: ["Telefon raqami", "Номер телефона", "A phone number"],
        body: [
            "Bank, militsiya yoki davlat xizmati xodimi hech qachon telefonda karta raqami, SMS-kod yoki parolni so'ramaydi. Go'shakni qo'ying va bankka kartangiz orqasidagi raqam bo'yicha o'zingiz qo'ng'iroq qiling.",
            "Сотрудник банка, милиции или госслужбы никогда не спрашивает по телефону номер карты, код из SMS или пароль. Положите трубку и сами позвоните в банк по номеру с обратной стороны карты.",
            "No bank, police or state employee ever asks by phone for a card number, an SMS code or a password. Hang up and call your bank yourself on the number on the back of your card.",
        ],
    },
    Advice {
        id: "card",
        title: ["Karta raqami", "Номер карты", "A card number"],
        body: [
            "Notanish odamning kartasiga oldindan to'lov qilmang: \"xaridor\", \"sotuvchi\" yoki \"yordamchi\" pulni olgach yo'qolib qoladi. Pulni o'tkazgan bo'lsangiz, darhol bankingizga qo'ng'iroq qiling.",
            "Не переводите предоплату на карту незнакомца: «покупатель», «продавец» или «помощник» исчезает с деньгами. Если уже перевели, сразу звоните в банк.",
            "Do not pay in advance to a stranger's card: the \"buyer\", \"seller\" or \"helper\" disappears with the money. If you already paid, call your bank at once.",
        ],
    },
    Advice {
        id: "link",
        title: ["Havola yoki sayt", "Ссылка или сайт", "A link or a website"],
        body: [
            "Soxta saytlar bank, do'kon yoki davlat xizmatiga o'xshaydi, lekin manzili bir harfga farq qiladi. Karta ma'lumotlarini faqat o'zingiz yozgan manzildagi saytga kiriting, xabardagi havola orqali emas.",
            "Поддельные сайты похожи на сайт банка, магазина или госуслуги, но адрес отличается на букву. Вводите данные карты только на сайте, адрес которого набрали сами, а не по ссылке из сообщения.",
            "Fake sites look like a bank's, a shop's or a state service's, but their address differs by a letter. Enter card details only on a site whose address you typed yourself, never through a link in a message.",
        ],
    },
    Advice {
        id: "handle",
        title: ["Telegram nomi", "Имя в Telegram", "A Telegram name"],
        body: [
            "Firibgarlar bank yoki do'kon nomidagi soxta kanal va \"qo'llab-quvvatlash\" akkauntlarini ochadi. Rasmiy akkauntni bankning o'z saytidan toping; hech kimga SMS-kodni yubormang.",
            "Мошенники заводят фальшивые каналы и аккаунты «поддержки» от имени банков и магазинов. Официальный аккаунт ищите на сайте самого банка; никому не пересылайте коды из SMS.",
            "Fraudsters open fake channels and \"support\" accounts in the name of banks and shops. Find the official account on the bank's own website; never forward an SMS code to anyone.",
        ],
    },
    Advice {
        id: "call",
        title: ["Qo'ng'iroq", "Звонок", "Phone calls"],
        body: [
            "\"Kartangiz bloklandi\", \"qarindoshingiz muammoga uchradi\", \"shubhali operatsiya\" - shoshiltiradigan gaplar. Shoshilmang: go'shakni qo'yib, o'zingiz tekshiring.",
            "«Карта заблокирована», «родственник попал в беду», «подозрительная операция» - слова, которые торопят. Не спешите: положите трубку и проверьте сами.",
            "\"Your card is blocked\", \"your relative is in trouble\", \"a suspicious payment\": words meant to rush you. Do not hurry: hang up and check for yourself.",
        ],
    },
    Advice {
        id: "sms",
        title: ["SMS", "SMS", "SMS"],
        body: [
            "Yutuq, qaytarilgan to'lov yoki bloklangan karta haqidagi SMSdagi havolani ochmang. Bankdan kelgan kodni hech kimga aytmang.",
            "Не открывайте ссылки из SMS о выигрыше, возврате денег или блокировке карты. Код из банка никому не сообщайте.",
            "Do not open links in messages about a prize, a refund or a blocked card. Never tell anyone a code your bank sent.",
        ],
    },
    Advice {
        id: "messenger",
        title: ["Messenjer", "Мессенджер", "Messengers"],
        body: [
            "Tanishingiz nomidan pul so'rashsa, unga oddiy qo'ng'iroq qilib tekshiring: akkauntlar buziladi. Ish, investitsiya yoki kredit taklifi oldindan to'lov talab qilsa, bu firibgarlik.",
            "Если от имени знакомого просят денег, проверьте обычным звонком: аккаунты взламывают. Работа, инвестиции или кредит с предоплатой - это мошенничество.",
            "If someone you know asks for money in a message, check with an ordinary call: accounts get taken over. Jobs, investments or loans that need a payment first are fraud.",
        ],
    },
    Advice {
        id: "marketplace",
        title: ["Savdo maydonchasi", "Торговая площадка", "Marketplaces"],
        body: [
            "Xaridor pulni \"yuborish\" uchun karta ma'lumotlari yoki SMS-kodni so'rasa, bu firibgarlik. Faqat saytning ichidagi to'lov va chatdan foydalaning.",
            "Если «покупатель» просит данные карты или код из SMS, чтобы «отправить» деньги, это мошенничество. Платите и общайтесь только внутри площадки.",
            "A \"buyer\" who needs your card details or an SMS code to \"send\" you money is a fraudster. Pay and talk only inside the marketplace.",
        ],
    },
    Advice {
        id: "social_network",
        title: ["Ijtimoiy tarmoq", "Соцсеть", "Social networks"],
        body: [
            "Juda arzon tovarlar, yordam yig'ish yoki \"tez boyish\" reklamalari ko'pincha firibgarlik. Sotuvchi haqida sharhlarni tekshiring, oldindan to'lamang.",
            "Слишком дешёвые товары, сборы помощи и «быстрый заработок» в рекламе часто оказываются мошенничеством. Проверьте отзывы о продавце и не платите заранее.",
            "Goods far too cheap, appeals for help and \"get rich fast\" adverts are often fraud. Look for reviews of the seller and do not pay in advance.",
        ],
    },
    Advice {
        id: "fake_site",
        title: ["Soxta sayt", "Поддельный сайт", "Fake websites"],
        body: [
            "Manzilni harfma-harf tekshiring (masalan, 0 o'rniga o yoki qo'shimcha so'z). Shubha bo'lsa, hech narsa kiritmang va bizga xabar bering.",
            "Проверьте адрес по буквам (например, 0 вместо o или лишнее слово). Если сомневаетесь, ничего не вводите и сообщите нам.",
            "Check the address letter by letter (a 0 for an o, an extra word). If in doubt, enter nothing and report it to us.",
        ],
    },
];

fn lang_index(lang: Lang) -> usize {
    match lang {
        Lang::Uz => 0,
        Lang::Ru => 1,
        Lang::En => 2,
    }
}

fn advice_html(lang: Lang, t: &Text) -> String {
    let li = lang_index(lang);
    let mut out = format!("<h2>{}</h2>", esc(t.advice_title));
    for a in ADVICE {
        let _ = write!(
            out,
            "<section id=\"advice-{}\"><h3>{}</h3><p>{}</p><p><a href=\"/fraud?lang={}\">{}</a></p></section>",
            a.id,
            esc(a.title[li]),
            esc(a.body[li]),
            lang.code(),
            esc(t.report_it)
        );
    }
    out
}

/// The policy of the check page: its own script, and fetches only to this origin.
const CHECK_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `GET /check?lang=`: the public check. The input has no `name`, so without JavaScript
/// nothing typed is ever sent; with it, the script hashes in the browser and sends a prefix.
pub async fn check_page(Query(q): Query<HashMap<String, String>>) -> Response {
    let lang = Lang::pick(q.get("lang").map(String::as_str));
    let t = text(lang);
    let li = lang_index(lang);
    let title_of = |id: &str| {
        ADVICE
            .iter()
            .find(|a| a.id == id)
            .map_or("", |a| a.title[li])
    };
    let mut data = String::new();
    for (k, v) in [
        ("found", t.found),
        ("notfound", t.not_found),
        ("notsafe", t.not_safe),
        ("advice", t.advice),
        ("invalid", t.invalid),
        ("failed", t.failed),
        ("report", t.report_it),
    ] {
        let _ = write!(data, " data-{k}=\"{}\"", esc(v));
    }
    for id in ["phone", "card", "link", "handle"] {
        let _ = write!(data, " data-kind{id}=\"{}\"", esc(title_of(id)));
    }
    for c in Channel::ALL {
        let _ = write!(
            data,
            " data-channel{}=\"{}\"",
            c.as_str().replace('_', ""),
            esc(title_of(c.as_str()))
        );
    }
    let kinds = [
        ("phone", t.phone),
        ("card", t.card),
        ("link", t.link),
        ("handle", t.handle),
    ];
    let mut k_opts = String::new();
    for (k, label) in kinds {
        let _ = write!(k_opts, "<option value=\"{k}\">{}</option>", esc(label));
    }
    let body = format!(
        "<h1>{title}</h1><p>{intro}</p><p class=\"hint\">{how}</p>\
         <p id=\"check-nojs\" class=\"emergency\">{nojs}</p>\
         <form id=\"check-form\" hidden{data}>\
         <label for=\"check-kind\">{l_kind}</label><select id=\"check-kind\">{k_opts}</select>\
         <label for=\"check-value\">{l_value}</label><input type=\"text\" id=\"check-value\" autocomplete=\"off\" spellcheck=\"false\" required>\
         <button type=\"submit\">{l_button}</button></form>\
         <div id=\"check-result\" role=\"status\" aria-live=\"polite\" tabindex=\"-1\"></div>\
         <style>#check-result.found,#check-result.error{{border:2px solid #b00;background:#fee;padding:.6rem;margin-top:1rem}}\
         #check-result.clear{{border:2px solid #1e6b3a;background:#e5f4ea;padding:.6rem;margin-top:1rem}}</style>\
         <p><a href=\"/fraud?lang={l}\">{report}</a></p>{advice}\
         <script src=\"/public/check.js\"></script>",
        title = esc(t.check_title),
        intro = esc(t.check_intro),
        how = esc(t.check_how),
        nojs = esc(t.check_nojs),
        l_kind = esc(t.check_kind),
        l_value = esc(t.check_value),
        l_button = esc(t.check_button),
        report = esc(t.report_it),
        advice = advice_html(lang, t),
        l = lang.code(),
    );
    let mut r = page(lang, StatusCode::OK, t.check_title, &body, "/check");
    let h = r.headers_mut();
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CHECK_CSP),
    );
    r
}

const CHECK_JS: &str = include_str!("public_assets/check.js");

/// `GET /public/check.js`: the check page's script.
pub async fn check_js() -> Response {
    let mut r = CHECK_JS.into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::parse_som;

    #[test]
    fn som_are_read_as_people_write_them() {
        assert_eq!(parse_som("1 500 000"), Some(150_000_000));
        assert_eq!(parse_som("1,500,000"), Some(150_000_000));
        assert_eq!(parse_som("1.500.000"), Some(150_000_000));
        assert_eq!(parse_som("1500000,5"), Some(150_000_050));
        assert_eq!(parse_som("1 500 000.50 so'm"), Some(150_000_050));
        assert_eq!(parse_som("0"), Some(0));
        assert_eq!(parse_som("abc"), None);
        assert_eq!(parse_som("-5"), None);
        assert_eq!(parse_som("99999999999999999999"), None);
    }
}
