//! Free-text extraction must never panic, and every span must lie on char boundaries inside
//! the input. Run: `cargo +nightly fuzz run extract` in crates/cyber/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn extractor() -> &'static cyber::Extractor {
    static EX: OnceLock<cyber::Extractor> = OnceLock::new();
    EX.get_or_init(|| {
        cyber::Extractor::new(cyber::CardKey::from_bytes(&[0x5a; 32]).expect("32-byte key"))
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = extractor().extract(&text);
    for i in &r.indicators {
        assert!(i.span.start <= i.span.end && i.span.end <= text.len());
        assert!(text.is_char_boundary(i.span.start) && text.is_char_boundary(i.span.end));
        assert!(!i.value.is_empty());
        // every normal form is stable: extracting it again gives itself
        if matches!(
            i.kind,
            cyber::IndicatorKind::Phone | cyber::IndicatorKind::Iban
        ) {
            let again = extractor()
                .field(i.kind, &i.value)
                .expect("normal form re-parses");
            assert_eq!(again.value, i.value);
        }
    }
    for j in &r.rejected {
        assert!(j.span.start <= j.span.end && j.span.end <= text.len());
        assert!(text.is_char_boundary(j.span.start) && text.is_char_boundary(j.span.end));
    }
});
