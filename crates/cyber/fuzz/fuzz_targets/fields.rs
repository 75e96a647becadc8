//! Form-field parsing of every kind must never panic; whatever it accepts must be a fixed
//! point (normalising the normal form gives it back). Run: `cargo +nightly fuzz run fields`.
#![no_main]

use cyber::IndicatorKind;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn extractor() -> &'static cyber::Extractor {
    static EX: OnceLock<cyber::Extractor> = OnceLock::new();
    EX.get_or_init(|| {
        cyber::Extractor::new(cyber::CardKey::from_bytes(&[0xa5; 32]).expect("32-byte key"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let kind = IndicatorKind::ALL[usize::from(k) % IndicatorKind::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    if let Ok(ind) = extractor().field(kind, &text)
        && kind != IndicatorKind::Card
    {
        let again = extractor()
            .field(ind.kind, &ind.value)
            .expect("a normal form parses");
        assert_eq!(again.value, ind.value, "normal form is not a fixed point");
    }
    let _ = cyber::parse_prefix_hex(&text);
});
