//! Extraction from realistic report texts and hostile inputs.
use cyber::{CardKey, Chain, Detail, Extractor, FieldError, IndicatorKind, Suspicion, UzLine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn ex() -> Extractor {
    Extractor::new(CardKey::from_bytes(b"test-key-test-key-test-key-32byt").unwrap())
}

/// Complete a card number with its Luhn check digit.
fn with_luhn(body: &str) -> String {
    let mut sum = 0;
    for (i, c) in body.bytes().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn kinds_values(text: &str) -> Vec<(IndicatorKind, String)> {
    ex().extract(text)
        .indicators
        .into_iter()
        .map(|i| (i.kind, i.value))
        .collect()
}

#[test]
fn uzbek_and_russian_fraud_message() {
    let uzcard = with_luhn("860012345678901");
    let humo = with_luhn("986001012345678");
    let text = format!(
        "Assalomu alaykum! Menga +998 90 123-45-67 raqamidan qo'ng'iroq qilishdi, \"Click\" \
         xodimiman dedi. Kartamga SMS kod keldi: {} {} {} {}. Keyin 8-91-234-56-78 dan yana. \
         Pulni {}-{}-{}-{} ga o'tkazdim.\n\
         Здравствуйте, мне написали в Telegram @Click_Bonus_Uz и дали ссылку \
         hxxps://click-bonus[.]uz/login?utm_source=tg&id=7&fbclid=XYZ — там просили ввести код. \
         Ещё звонили с (93) 555-44-33 и 97 1234567.",
        &uzcard[0..4],
        &uzcard[4..8],
        &uzcard[8..12],
        &uzcard[12..16],
        &humo[0..4],
        &humo[4..8],
        &humo[8..12],
        &humo[12..16]
    );
    let r = ex().extract(&text);
    let got: Vec<(IndicatorKind, &str)> = r
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    let uz_masked = format!("{}…{}", &uzcard[..6], &uzcard[12..]);
    let humo_masked = format!("{}…{}", &humo[..6], &humo[12..]);
    assert_eq!(
        got,
        vec![
            (IndicatorKind::Phone, "+998901234567"),
            (IndicatorKind::Card, uz_masked.as_str()),
            (IndicatorKind::Phone, "+998912345678"),
            (IndicatorKind::Card, humo_masked.as_str()),
            (IndicatorKind::Handle, "click_bonus_uz"),
            (IndicatorKind::Link, "https://click-bonus.uz/login?id=7"),
            (IndicatorKind::Phone, "+998935554433"),
            (IndicatorKind::Phone, "+998971234567"),
        ]
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    // spans point at the text as written
    let spans: Vec<&str> = r.indicators.iter().map(|i| &text[i.span.clone()]).collect();
    assert_eq!(spans[0], "+998 90 123-45-67");
    assert_eq!(spans[2], "8-91-234-56-78");
    assert_eq!(
        spans[5],
        "hxxps://click-bonus[.]uz/login?utm_source=tg&id=7&fbclid=XYZ"
    );
    assert!(r.indicators[5].defanged);
    assert_eq!(spans[6], "(93) 555-44-33");
    // cards: network, hash, and never the number
    let Detail::Card(t) = &r.indicators[1].detail else {
        panic!()
    };
    assert_eq!(t.network(), cyber::CardNetwork::Uzcard);
    let mut mac = Hmac::<Sha256>::new_from_slice(b"test-key-test-key-test-key-32byt").unwrap();
    mac.update(uzcard.as_bytes());
    assert_eq!(&t.keyed_hash()[..], &mac.finalize().into_bytes()[..]);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains(&uzcard) && !json.contains(&humo), "{json}");
    assert!(!format!("{r:?}").contains(&uzcard));
}

#[test]
fn phone_forms_and_lines() {
    for s in [
        "+998 90 123 45 67",
        "998901234567",
        "8-90-123-45-67",
        "8 (90) 123-45-67",
        "(90) 123-45-67",
        "90 1234567",
        "901234567",
        "+998(90)1234567",
        "+99890 123 45 67",
        "00998 90 123 45 67",
        "+998.90.123.45.67",
        "тел: +998 90 123 45 67.",
        "raqam:901234567,",
        "＋９９８ ９０ １２３ ４５ ６７",
        "+998 90 123 45 67",
    ] {
        assert_eq!(
            kinds_values(s),
            vec![(IndicatorKind::Phone, "+998901234567".to_string())],
            "{s}"
        );
    }
    let r = ex().extract("Toshkent: 71 200 00 00");
    assert_eq!(
        r.indicators[0].detail,
        Detail::Phone {
            country_code: 998,
            uz_line: Some(UzLine::Fixed)
        }
    );
}

#[test]
fn not_phones() {
    for s in [
        "Сумма 150 000 000 сум",
        "summa 900000000 so'm",
        "ИНН 201234567",
        "STIR: 201 234 567",
        "8 912 345 67 89",
        "1.500.000",
        "12.05.2024",
        "ID998901234567",
        "90 123 45 67 89",
        "v1.2.3",
        "2024-05-12",
        "счет 20208000900123456001",
        "№ 901234567",
        "901234567abc",
    ] {
        let r = ex().extract(s);
        assert!(
            !r.indicators.iter().any(|i| i.kind == IndicatorKind::Phone),
            "{s}: {:?}",
            r.indicators
        );
    }
}

#[test]
fn dates_next_to_phones_do_not_hide_them() {
    assert_eq!(
        kinds_values("12.05.2024 90 123 45 67"),
        vec![(IndicatorKind::Phone, "+998901234567".into())]
    );
    assert_eq!(
        kinds_values("1. 90 123 45 67 2. 91 765 43 21"),
        vec![
            (IndicatorKind::Phone, "+998901234567".into()),
            (IndicatorKind::Phone, "+998917654321".into())
        ]
    );
}

#[test]
fn foreign_numbers_need_plus() {
    assert_eq!(
        kinds_values("+7 (912) 345-67-89, +44 20 7946 0958 va +992 93 123 4567"),
        vec![
            (IndicatorKind::Phone, "+79123456789".into()),
            (IndicatorKind::Phone, "+442079460958".into()),
            (IndicatorKind::Phone, "+992931234567".into()),
        ]
    );
    let r = ex().extract("+998 12 345 67 89 va +7 912 345");
    assert!(r.indicators.is_empty());
    assert_eq!(r.rejected.len(), 2, "{:?}", r.rejected);
    assert!(r.rejected[0].reason.contains("12"));
}

#[test]
fn cards_are_not_phones_and_bad_cards_are_named() {
    let visa = with_luhn("411111111111111");
    let text = format!("card {visa} and {}", "4111 1111 1111 1112");
    let r = ex().extract(&text);
    assert_eq!(r.indicators.len(), 1);
    assert_eq!(r.indicators[0].kind, IndicatorKind::Card);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].kind, IndicatorKind::Card);
    assert!(r.rejected[0].reason.contains("Luhn"));
    // a card and a phone side by side in one chain of numbers
    let uz = with_luhn("860049123456789");
    let t = format!(
        "{} {} {} {} 90 123 45 67",
        &uz[..4],
        &uz[4..8],
        &uz[8..12],
        &uz[12..]
    );
    let kv = kinds_values(&t);
    assert_eq!(kv.len(), 2, "{kv:?}");
    assert_eq!(kv[0].0, IndicatorKind::Card);
    assert_eq!(kv[1], (IndicatorKind::Phone, "+998901234567".into()));
}

#[test]
fn links_domains_and_handles() {
    let kv = kinds_values(
        "Saytga kiring: https://Click-Bonus.UZ:443/./a/../login?utm_medium=x&gclid=1&yclid=2#top, \
         yoki www.paynet-bonus.uz, yoki uzum-market.uz/promo. Kanal: t.me/s/Uzum_Bonus, \
         https://telegram.me/joinchat/AAAA, @ab (qisqa), fraud.team@gmail.com, readme.md",
    );
    assert_eq!(
        kv,
        vec![
            (IndicatorKind::Link, "https://click-bonus.uz/login".into()),
            (IndicatorKind::Domain, "www.paynet-bonus.uz".into()),
            (IndicatorKind::Link, "http://uzum-market.uz/promo".into()),
            (IndicatorKind::Handle, "uzum_bonus".into()),
            (
                IndicatorKind::Link,
                "https://telegram.me/joinchat/AAAA".into()
            ),
        ]
    );
}

#[test]
fn unicode_tricks_are_flagged_and_stripped() {
    let text = "Kirish: https://pay\u{200B}me.uz/login va https://\u{202E}evil.uz va \
                https://раураl.com va xn--80ak6aa92e.com va ｅｖｉｌ．ｕｚ";
    let r = ex().extract(text);
    let got: Vec<(&str, Vec<Suspicion>)> = r
        .indicators
        .iter()
        .map(|i| (i.value.as_str(), i.suspicious.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "https://payme.uz/login",
                vec![Suspicion::InvisibleCharacter]
            ),
            ("https://evil.uz/", vec![Suspicion::BidiControl]),
            ("https://xn--l-7sba6dbr.com/", vec![Suspicion::MixedScript]),
            ("xn--80ak6aa92e.com", vec![Suspicion::WholeScriptConfusable]),
            ("evil.uz", vec![Suspicion::CompatibilityCharacter]),
        ]
    );
    // spans cover the invisible characters
    assert_eq!(
        &text[r.indicators[0].span.clone()],
        "https://pay\u{200B}me.uz/login"
    );
}

#[test]
fn ibans_and_wallets() {
    let r = ex().extract(
        "IBAN: GB82 WEST 1234 5698 7654 32 yoki DE89370400440532013000; noto'g'ri: \
         GB82 WEST 1234 5698 7654 33. USDT TRC20 TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t, BTC \
         1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa va bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4, \
         ETH 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, xato 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
    );
    let got: Vec<(IndicatorKind, &str)> = r
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (IndicatorKind::Iban, "GB82WEST12345698765432"),
            (IndicatorKind::Iban, "DE89370400440532013000"),
            (IndicatorKind::Wallet, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
            (IndicatorKind::Wallet, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            (
                IndicatorKind::Wallet,
                "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
            ),
            (
                IndicatorKind::Wallet,
                "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
            ),
        ]
    );
    assert_eq!(
        r.indicators[2].detail,
        Detail::Wallet { chain: Chain::Tron }
    );
    let rej: Vec<IndicatorKind> = r.rejected.iter().map(|x| x.kind).collect();
    assert_eq!(rej, vec![IndicatorKind::Iban, IndicatorKind::Wallet]);
}

#[test]
fn fields() {
    let e = ex();
    assert_eq!(
        e.field(IndicatorKind::Phone, " 8 (90) 123-45-67 ")
            .unwrap()
            .value,
        "+998901234567"
    );
    assert!(matches!(
        e.field(IndicatorKind::Phone, "+998 12 345 67 89"),
        Err(FieldError::Phone(_))
    ));
    let c = e
        .field(IndicatorKind::Card, &with_luhn("986001234567890"))
        .unwrap();
    assert_eq!(c.value.chars().count(), 11);
    assert_eq!(
        e.field(IndicatorKind::Handle, "https://t.me/Scam_Shop")
            .unwrap()
            .value,
        "scam_shop"
    );
    assert_eq!(
        e.field(IndicatorKind::Link, "hxxps://evil[.]uz/?utm_source=1")
            .unwrap()
            .value,
        "https://evil.uz/"
    );
    assert_eq!(
        e.field(IndicatorKind::Domain, "Evil.UZ.").unwrap().value,
        "evil.uz"
    );
    let err = e
        .field(IndicatorKind::Iban, "GB82 WEST 1234 5698 7654 33")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "IBAN: fails the IBAN check digits (mod 97)"
    );
    assert!(e.field(IndicatorKind::Wallet, "0x123").is_err());
}

#[test]
fn keys_link_and_hash() {
    let r = ex().extract("https://login.evil-bank.uz/a va https://instagram.com/fake_shop");
    let k0 = r.indicators[0].link_keys();
    assert_eq!(k0.len(), 2);
    assert_eq!(k0[1].kind, IndicatorKind::Domain);
    assert_eq!(k0[1].value, "evil-bank.uz");
    // a platform's domain links nothing by itself
    assert_eq!(r.indicators[1].link_keys().len(), 1);
    let card = with_luhn("860012345678901");
    let r = ex().extract(&card);
    let key = r.indicators[0].key();
    assert!(key.value.starts_with("hmac-sha256:"));
    assert_eq!(r.indicators[0].check_hashes().len(), 2);
}

#[test]
fn hostile_inputs_are_bounded_and_do_not_panic() {
    let e = ex();
    let big_digits = "9".repeat(2_000_000);
    let t = std::time::Instant::now();
    assert!(e.extract(&big_digits).indicators.is_empty());
    let mixed: String = "+998 90 123 45 67 \u{200B}\u{202E}[.]hxxp://a.uz/ @abcde ".repeat(20_000);
    let r = e.extract(&mixed);
    assert_eq!(
        r.indicators
            .iter()
            .filter(|i| i.kind == IndicatorKind::Phone)
            .count(),
        20_000
    );
    let dots = "a.".repeat(500_000);
    e.extract(&dots);
    let url = format!("https://x.uz/{}", "a".repeat(100_000));
    let r = e.extract(&url);
    assert!(r.indicators.is_empty());
    assert_eq!(r.rejected.len(), 1);
    let parens = format!("https://x.uz/{}", ")".repeat(200_000));
    e.extract(&parens);
    let paths = "a.uz/".repeat(200_000);
    e.extract(&paths);
    let links = "https://a.uz,".repeat(100_000);
    e.extract(&links);
    let spaces = format!("{}901234567{}", " ".repeat(500_000), " ".repeat(500_000));
    assert_eq!(e.extract(&spaces).indicators.len(), 1);
    let at = "@".repeat(300_000) + &"_".repeat(300_000);
    e.extract(&at);
    let seps = "1 -".repeat(300_000);
    e.extract(&seps);
    let invis = "\u{200B}".repeat(300_000);
    assert!(e.extract(&invis).indicators.is_empty());
    assert!(
        t.elapsed().as_secs() < 20,
        "hostile inputs took {:?}",
        t.elapsed()
    );
}
