//! `posbon cyber extract` from outside: a fraud message in Uzbek and Russian on stdin, one JSON
//! object per indicator on stdout.
use std::io::Write;
use std::process::{Command, Output, Stdio};

const KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A Luhn-valid UzCard number (8600 …), written with spaces in the message.
const CARD: &str = "8600312990314318";

fn message() -> String {
    format!(
        "Assalomu alaykum! Men Click xodimiman, kartangiz bloklandi. Kodni ayting yoki \
         +998 (90) 123-45-67 ga qo'ng'iroq qiling. Pulni {} {} {} {} kartaga o'tkazing.\n\
         Здравствуйте! Ваш выигрыш 5 000 000 сум. Подробности: hxxps://click-bonus[.]uz/get?utm_source=tg \
         и в Telegram @Click_Uz_Bonus, резервный номер 8-91-765-43-21.",
        &CARD[..4],
        &CARD[4..8],
        &CARD[8..12],
        &CARD[12..]
    )
}

fn run(input: &[u8], args: &[&str], env_key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_posbon"));
    cmd.arg("cyber").arg("extract").args(args);
    cmd.env_remove("POSBON_CARD_KEY");
    if let Some(k) = env_key {
        cmd.env("POSBON_CARD_KEY", k);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn fraud_message_gives_one_json_object_per_indicator() {
    let text = message();
    let out = run(text.as_bytes(), &[], Some(KEY_HEX));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let got = lines(&out);
    let kv: Vec<(&str, &str)> = got
        .iter()
        .map(|v| (v["kind"].as_str().unwrap(), v["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kv,
        vec![
            ("phone", "+998901234567"),
            ("card", "860031…4318"),
            ("link", "https://click-bonus.uz/get"),
            ("handle", "click_uz_bonus"),
            ("phone", "+998917654321"),
        ]
    );
    // start/end are byte offsets of the text as written
    let written: Vec<&str> = got
        .iter()
        .map(|v| {
            let (s, e) = (
                v["start"].as_u64().unwrap() as usize,
                v["end"].as_u64().unwrap() as usize,
            );
            &text[s..e]
        })
        .collect();
    assert_eq!(written[0], "+998 (90) 123-45-67");
    assert_eq!(written[1], "8600 3129 9031 4318");
    assert_eq!(written[2], "hxxps://click-bonus[.]uz/get?utm_source=tg");
    assert_eq!(written[3], "@Click_Uz_Bonus");
    assert_eq!(written[4], "8-91-765-43-21");
    assert_eq!(got[2]["defanged"], true);
    // the card: keyed hash under the given key, never the number
    let key = cyber::CardKey::from_hex(KEY_HEX).unwrap();
    let token = cyber::parse_card(CARD, &key).unwrap();
    assert_eq!(got[1]["hash"], token.keyed_hash_hex());
    assert_eq!(got[1]["network"], "uzcard");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(CARD) && !err.contains(CARD));
    assert!(!err.contains("random key"), "{err}");
}

#[test]
fn key_file_and_env_give_the_same_hash_and_no_key_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.key");
    std::fs::write(&path, format!("{KEY_HEX}\n")).unwrap();
    let input = format!("karta {CARD}");
    let a = run(
        input.as_bytes(),
        &["--card-key-file", path.to_str().unwrap()],
        None,
    );
    let b = run(input.as_bytes(), &[], Some(KEY_HEX));
    assert!(a.status.success() && b.status.success());
    assert_eq!(lines(&a)[0]["hash"], lines(&b)[0]["hash"]);

    let c = run(input.as_bytes(), &[], None);
    assert!(c.status.success());
    let err = String::from_utf8_lossy(&c.stderr);
    assert!(err.contains("random key"), "{err}");
    assert_ne!(lines(&c)[0]["hash"], lines(&b)[0]["hash"]);
}

#[test]
fn bad_input_and_bad_keys_fail_clearly() {
    let bad_utf8 = run(b"tel +998 90 123 45 67 \xff\xfe", &[], Some(KEY_HEX));
    let err = String::from_utf8_lossy(&bad_utf8.stderr);
    assert!(!bad_utf8.status.success());
    assert!(
        err.contains("not UTF-8") && err.contains("offset 22"),
        "{err}"
    );
    assert!(!err.contains("panicked"));

    let short = run(b"x", &[], Some("abcd"));
    let err = String::from_utf8_lossy(&short.stderr);
    assert!(
        !short.status.success() && err.contains("POSBON_CARD_KEY"),
        "{err}"
    );

    let big = run(&[b'9'; 2000], &["--max-bytes", "1000"], Some(KEY_HEX));
    let err = String::from_utf8_lossy(&big.stderr);
    assert!(
        !big.status.success() && err.contains("--max-bytes"),
        "{err}"
    );

    // hostile text: invisible and bidi characters, a mistyped card; succeeds, notes the card
    let text =
        "pul\u{202E} o'tkaz 4111 1111 1111 1112 \u{200B}\u{200B} @ab https://pay\u{200B}me.uz";
    let out = run(text.as_bytes(), &[], Some(KEY_HEX));
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Luhn"), "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["value"], "https://payme.uz/");
    assert_eq!(got[0]["suspicious"][0], "invisible_character");
}
