//! Property tests for every extractor, the campaign linker and the prefix index.
use cyber::{
    CampaignLinker, CardKey, Detail, Extractor, IndicatorKind, PrefixIndex, Suspicion,
    UZ_FIXED_CODES, UZ_MOBILE_CODES, indicator_hash, parse_iban, parse_phone, parse_wallet,
    prefix_hex,
};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

const KEY: &[u8] = b"property-test-card-key-32-bytes!";

fn ex() -> Extractor {
    Extractor::new(CardKey::from_bytes(KEY).unwrap())
}

/// Words that surround indicators in the generated texts: Uzbek, Russian and English, Latin
/// and Cyrillic, punctuation; none of them forms an indicator.
const FILLER: [&str; 24] = [
    "salom",
    "pul",
    "o'tkazing",
    "karta",
    "raqamiga",
    "tezda",
    "деньги",
    "переведите",
    "срочно",
    "на",
    "карту",
    "номер",
    "please",
    "send",
    "the",
    "code",
    "now!",
    "—",
    ",",
    "(",
    ")",
    "«",
    "»",
    "\n",
];

fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&FILLER[..]), 0..8).prop_map(|w| w.join(" "))
}

fn uz_nsn() -> impl Strategy<Value = String> {
    let codes: Vec<u8> = UZ_MOBILE_CODES
        .iter()
        .chain(&UZ_FIXED_CODES)
        .copied()
        .collect();
    (prop::sample::select(codes), 0u32..10_000_000).prop_map(|(c, s)| format!("{c:02}{s:07}"))
}

/// Every way of writing an Uzbek number that the extractor supports.
fn format_uz(nsn: &str, style: usize, sep: &str) -> String {
    let (c, a, b, d) = (&nsn[..2], &nsn[2..5], &nsn[5..7], &nsn[7..]);
    match style {
        0 => format!("+998{sep}{c}{sep}{a}{sep}{b}{sep}{d}"),
        1 => format!("998{nsn}"),
        2 => format!("8{sep}{c}{sep}{a}{sep}{b}{sep}{d}"),
        3 => format!("({c}) {a}{sep}{b}{sep}{d}"),
        4 => format!("{c} {a}{b}{d}"),
        5 => format!("+998 ({c}) {a}{sep}{b}{sep}{d}"),
        6 => format!("+998{nsn}"),
        7 => format!("8 ({c}) {a}{sep}{b}{sep}{d}"),
        8 => format!("{c}{sep}{a}{sep}{b}{sep}{d}"),
        9 => format!("00998 {c} {a} {b} {d}"),
        10 => format!("+998{sep}{nsn}"),
        _ => nsn.to_string(),
    }
}

fn luhn_complete(body: &[u8]) -> Vec<u8> {
    let mut sum = 0u32;
    for (i, &c) in body.iter().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    let mut out = body.to_vec();
    out.push(b'0' + ((10 - sum % 10) % 10) as u8);
    out
}

fn card_number() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["8600", "9860", "4169", "5440", "2200", "6262"]),
        prop::collection::vec(0u8..10, 11),
    )
        .prop_map(|(p, rest)| {
            let mut body: Vec<u8> = p.bytes().collect();
            body.extend(rest.iter().map(|d| b'0' + d));
            String::from_utf8(luhn_complete(&body)).unwrap()
        })
}

fn hostile_char() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "0", "1", "8", "9", "+", "(", ")", "-", ".", " ", "/", ":", "@", "_", "[.]", "hxxp",
            "://", "www.", "t.me/", "0x", "bc1", "T", "GB82", "uz", "com", "рф", "а", "é", "ё",
            "\u{200B}", "\u{202E}", "\u{FEFF}", "\u{00AD}", "１", "٣", "。", "ｅ", "\u{0301}", "💳",
            "\n", "\t", "%", "#", "?", "&", "=", "'", "\"", "«",
        ]).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn assert_spans_ok(text: &str) {
    let r = ex().extract(text);
    for i in &r.indicators {
        assert!(
            i.span.start <= i.span.end && i.span.end <= text.len(),
            "{i:?}"
        );
        assert!(text.is_char_boundary(i.span.start) && text.is_char_boundary(i.span.end));
        assert!(!i.value.is_empty());
    }
    for j in &r.rejected {
        assert!(j.span.start <= j.span.end && j.span.end <= text.len());
        assert!(text.is_char_boundary(j.span.start) && text.is_char_boundary(j.span.end));
    }
}

proptest! {
    #[test]
    fn any_uzbek_number_in_any_format_normalises_the_same(
        nsn in uz_nsn(), style in 0usize..12, sep in prop::sample::select(vec![" ", "-", "."]),
        before in filler(), after in filler(),
    ) {
        let written = format_uz(&nsn, style, sep);
        let e164 = format!("+998{nsn}");
        prop_assert_eq!(&parse_phone(&written).unwrap().e164, &e164, "{}", written);
        let text = format!("{before} {written} {after}");
        let r = ex().extract(&text);
        let phones: Vec<_> = r.indicators.iter().filter(|i| i.kind == IndicatorKind::Phone).collect();
        prop_assert_eq!(phones.len(), 1, "{:?} in {:?}", r.indicators, text);
        prop_assert_eq!(&phones[0].value, &e164);
        let at = before.len() + 1;
        prop_assert_eq!(phones[0].span.clone(), at..at + written.len(), "{}", text);
        prop_assert!(r.indicators.len() == 1, "{:?}", r.indicators);
    }

    #[test]
    fn any_luhn_valid_card_in_text_is_found_with_right_bin_last4_and_hash(
        pan in card_number(), style in 0usize..3, before in filler(), after in filler(),
    ) {
        let written = match style {
            0 => pan.clone(),
            1 => format!("{} {} {} {}", &pan[..4], &pan[4..8], &pan[8..12], &pan[12..]),
            _ => format!("{}-{}-{}-{}", &pan[..4], &pan[4..8], &pan[8..12], &pan[12..]),
        };
        let text = format!("{before} {written} {after}");
        let r = ex().extract(&text);
        prop_assert_eq!(r.indicators.len(), 1, "{:?} in {:?}", r.indicators, text);
        let i = &r.indicators[0];
        prop_assert_eq!(i.kind, IndicatorKind::Card);
        let Detail::Card(t) = &i.detail else { panic!("not a card") };
        prop_assert_eq!(t.bin(), &pan[..6]);
        prop_assert_eq!(t.last4(), &pan[12..]);
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
        mac.update(pan.as_bytes());
        prop_assert_eq!(&t.keyed_hash()[..], &mac.finalize().into_bytes()[..]);
        let at = before.len() + 1;
        prop_assert_eq!(i.span.clone(), at..at + written.len());
        // the full number is nowhere in what was produced
        let dump = format!("{r:?}{}", serde_json::to_string(&r).unwrap());
        prop_assert!(!dump.contains(&pan));
    }

    #[test]
    fn a_card_with_one_digit_changed_is_never_taken(pan in card_number(), pos in 0usize..16, d in 1u8..10) {
        let mut b = pan.into_bytes();
        b[pos] = b'0' + (b[pos] - b'0' + d) % 10;
        let wrong = String::from_utf8(b).unwrap();
        let r = ex().extract(&format!("karta {wrong}"));
        prop_assert!(r.indicators.iter().all(|i| i.kind != IndicatorKind::Card));
    }

    #[test]
    fn extraction_never_panics_and_spans_are_char_boundaries(s in ".{0,300}") {
        assert_spans_ok(&s);
    }

    #[test]
    fn hostile_mixtures_never_panic(parts in prop::collection::vec(hostile_char(), 0..200)) {
        assert_spans_ok(&parts.concat());
    }

    #[test]
    fn accepted_fields_are_fixed_points(k in 0usize..7, parts in prop::collection::vec(hostile_char(), 0..40)) {
        let kind = IndicatorKind::ALL[k];
        let text = parts.concat();
        if let Ok(ind) = ex().field(kind, &text)
            && kind != IndicatorKind::Card
        {
            let again = ex().field(ind.kind, &ind.value).unwrap();
            prop_assert_eq!(again.value, ind.value);
        }
    }

    #[test]
    fn invisible_characters_inside_a_number_are_stripped_and_flagged(
        nsn in uz_nsn(), pos in 1usize..16,
        junk in prop::sample::select(vec!["\u{200B}", "\u{200C}", "\u{2060}", "\u{FEFF}", "\u{00AD}"]),
    ) {
        let written = format!("+998 {} {} {} {}", &nsn[..2], &nsn[2..5], &nsn[5..7], &nsn[7..]);
        let pos = pos.min(written.len() - 1);
        let tampered = format!("{}{junk}{}", &written[..pos], &written[pos..]);
        let text = format!("tel: {tampered} !");
        let r = ex().extract(&text);
        prop_assert_eq!(r.indicators.len(), 1, "{:?}", text);
        prop_assert_eq!(&r.indicators[0].value, &format!("+998{nsn}"));
        prop_assert!(r.indicators[0].suspicious.contains(&Suspicion::InvisibleCharacter));
        prop_assert_eq!(&text[r.indicators[0].span.clone()], tampered.as_str());
    }

    #[test]
    fn valid_ibans_are_found(country in prop::sample::select(vec!["GB", "DE", "KZ", "TR", "AE", "RU", "FR"]),
                             seed in prop::collection::vec(0u8..36, 34), grouped in any::<bool>()) {
        let len = cyber::iban_length(country.as_bytes()).unwrap();
        let bban: String = seed[..len - 4].iter().map(|&v| if v < 10 { (b'0' + v) as char } else { (b'A' + v - 10) as char }).collect();
        // check digits: 98 - mod97(bban + country + "00")
        let rearranged = format!("{bban}{country}00");
        let mut r = 0u32;
        for c in rearranged.bytes() {
            r = if c.is_ascii_digit() { (r * 10 + u32::from(c - b'0')) % 97 } else { (r * 100 + u32::from(c - b'A' + 10)) % 97 };
        }
        let iban = format!("{country}{:02}{bban}", 98 - r);
        prop_assert_eq!(parse_iban(&iban).unwrap(), iban.clone());
        let written = if grouped {
            iban.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
        } else { iban.clone() };
        let text = format!("IBAN: {written}. rahmat");
        let got = ex().extract(&text);
        let ibans: Vec<_> = got.indicators.iter().filter(|i| i.kind == IndicatorKind::Iban).collect();
        prop_assert_eq!(ibans.len(), 1, "{:?}", text);
        prop_assert_eq!(&ibans[0].value, &iban);
    }

    #[test]
    fn telegram_handles(first in "[a-zA-Z]", rest in "[a-zA-Z0-9_]{3,30}[a-zA-Z0-9]", form in 0usize..4) {
        let name = format!("{first}{rest}");
        let written = match form {
            0 => format!("@{name}"),
            1 => format!("t.me/{name}"),
            2 => format!("https://t.me/{name}"),
            _ => format!("telegram.me/{name}"),
        };
        let text = format!("yozing {written}, tezda");
        let r = ex().extract(&text);
        prop_assert_eq!(r.indicators.len(), 1, "{:?}", text);
        prop_assert_eq!(r.indicators[0].kind, IndicatorKind::Handle);
        prop_assert_eq!(&r.indicators[0].value, &name.to_ascii_lowercase());
    }

    #[test]
    fn links_normalise_case_defanging_and_tracking_alike(
        label in "[a-z][a-z0-9-]{0,12}[a-z0-9]", tld in prop::sample::select(vec!["uz", "com", "ru", "org", "net"]),
        path in "(/[a-zA-Z0-9_]{1,8}){0,3}", id in 0u32..1000,
        utm in any::<bool>(), upper in any::<bool>(), defang in any::<bool>(),
    ) {
        let host = format!("{label}.{tld}");
        let clean = format!("https://{host}{path}?id={id}");
        let host_w = if upper { host.to_uppercase() } else { host.clone() };
        let host_w = if defang { host_w.replace('.', "[.]") } else { host_w };
        let scheme = if defang { "hxxps" } else { "https" };
        let extra = if utm { "&utm_source=tg&fbclid=abc" } else { "" };
        let written = format!("{scheme}://{host_w}{path}?id={id}{extra}");
        let r = ex().extract(&format!("Kiring: {written} tez!"));
        prop_assert_eq!(r.indicators.len(), 1, "{:?}", written);
        let expected_path = if path.is_empty() { "/".to_string() } else { path.clone() };
        prop_assert_eq!(&r.indicators[0].value, &format!("https://{host}{expected_path}?id={id}"), "{}", clean);
        prop_assert_eq!(r.indicators[0].defanged, defang);
    }

    #[test]
    fn wallets_verify_checksums(payload in prop::collection::vec(any::<u8>(), 20), p2sh in any::<bool>(), flip in 1usize..25) {
        let mut raw = vec![if p2sh { 5u8 } else { 0u8 }];
        raw.extend(&payload);
        let chk = Sha256::digest(Sha256::digest(&raw));
        raw.extend(&chk[..4]);
        let addr = bs58::encode(&raw).into_string();
        prop_assert_eq!(parse_wallet(&addr).unwrap().1, addr.clone());
        let r = ex().extract(&format!("BTC: {addr}"));
        prop_assert_eq!(r.indicators.len(), 1);
        // a changed character breaks the checksum (or the shape)
        let mut b = addr.clone().into_bytes();
        let i = flip.min(b.len() - 1);
        b[i] = if b[i] == b'z' { b'y' } else { b'z' };
        prop_assert!(parse_wallet(std::str::from_utf8(&b).unwrap()).is_err());
        // TRON
        let mut t = vec![0x41u8];
        t.extend(&payload);
        let chk = Sha256::digest(Sha256::digest(&t));
        t.extend(&chk[..4]);
        let tron = bs58::encode(&t).into_string();
        prop_assert_eq!(parse_wallet(&tron).unwrap().0, cyber::Chain::Tron);
    }

    #[test]
    fn linker_matches_connected_components(reports in prop::collection::vec(prop::collection::vec(0u8..40, 0..4), 1..60)) {
        let mut l: CampaignLinker<usize, u8> = CampaignLinker::new();
        for (i, keys) in reports.iter().enumerate() {
            l.add_report(i, keys.iter().copied(), 1);
        }
        // reference: reports linked when they share a key, by repeated relaxation
        let n = reports.len();
        let mut comp: Vec<usize> = (0..n).collect();
        loop {
            let mut changed = false;
            let mut by_key: HashMap<u8, usize> = HashMap::new();
            for i in 0..n {
                for k in &reports[i] {
                    let c = *by_key.entry(*k).or_insert(comp[i]);
                    if c < comp[i] { comp[i] = c; changed = true; }
                    if comp[i] < c { by_key.insert(*k, comp[i]); changed = true; }
                }
            }
            for (keys, ci) in reports.iter().zip(comp.iter_mut()) {
                for k in keys {
                    let c = by_key[k];
                    if c < *ci { *ci = c; changed = true; }
                }
            }
            if !changed { break; }
        }
        for (i, ci) in comp.iter().enumerate() {
            // campaign id is the earliest report of the component
            prop_assert_eq!(l.campaign_of(&i).unwrap().0 as usize, *ci);
        }
        let distinct: HashSet<usize> = comp.iter().copied().collect();
        prop_assert_eq!(l.campaigns().len(), distinct.len());
        for c in l.campaigns() {
            let members = l.reports(c);
            prop_assert_eq!(members.len(), comp.iter().filter(|&&x| x == c.0 as usize).count());
            prop_assert_eq!(l.campaign_weight(c), members.len() as u64);
        }
    }

    #[test]
    fn prefix_range_is_exact(n in 1usize..2000, q in 0usize..2000, chars in 3usize..7) {
        let mut idx = PrefixIndex::new();
        let hs: Vec<[u8; 32]> = (0..n).map(|i| indicator_hash(IndicatorKind::Phone, &format!("+99890{i:07}"))).collect();
        for h in &hs { idx.insert(*h); }
        let probe = hs[q % n];
        let p = prefix_hex(&probe, chars);
        let got = idx.range_hex(&p).unwrap();
        let mut want: Vec<[u8; 32]> = hs.iter().filter(|h| prefix_hex(h, chars) == p).copied().collect();
        want.sort();
        want.dedup();
        prop_assert_eq!(got, want);
    }
}
