//! Parsing and validation of the rules config: every mistake is caught and named, against the
//! detector's real class list (YOLOv4-tiny's `coco.names`).
use vision::rules::{Direction, RuleConfig, RuleEngine, RuleKind, RulesConfig, RulesError};

use assets::asset_root;

fn coco_names() -> Vec<String> {
    let path = asset_root().join("yolov4-tiny/coco.names");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `posbon assets fetch`", path.display()));
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(
        names.len(),
        80,
        "{} should list the 80 COCO classes",
        path.display()
    );
    names
}

const EXAMPLE: &str = r#"
[[zones]]
name = "square"
polygon = [[0.1,0.5],[0.9,0.5],[0.9,0.95],[0.1,0.95]]

[[lines]]
name = "crossing"
from = [0.5, 0.3]
to   = [0.5, 0.9]

[[rules]]
name = "enter-square"
kind = "zone_enter"
zone = "square"
classes = ["person"]
min_confidence = 0.4
min_duration_s = 1.0
cooldown_s = 30

[[rules]]
name = "cross"
kind = "line_cross"
line = "crossing"
direction = "A->B"

[[rules]]
name = "linger"
kind = "loitering"
zone = "square"
min_duration_s = 60

[[rules]]
name = "crowd"
kind = "crowding"
zone = "square"
min_count = 5

[[rules]]
name = "bag"
kind = "object_left"
classes = ["backpack", "handbag", "suitcase"]
min_duration_s = 30
max_move = 0.02
near = 0.1

[[rules]]
name = "against"
kind = "wrong_way"
zone = "square"
expected = [0.0, 1.0]
min_distance = 0.05
"#;

fn example() -> RulesConfig {
    RulesConfig::from_toml_str(EXAMPLE).unwrap_or_else(|e| panic!("{e}"))
}

/// Apply `edit` to the example config, validate, and return the error message.
fn error_after(edit: impl FnOnce(&mut RulesConfig)) -> (RulesError, String) {
    let mut cfg = example();
    edit(&mut cfg);
    let err = cfg
        .validate(&coco_names())
        .expect_err("config should be rejected");
    let msg = err.to_string();
    (err, msg)
}

/// (rule name, edit to apply to it, field the error must name)
type Case = (&'static str, Box<dyn Fn(&mut RuleConfig)>, &'static str);

fn rule<'a>(cfg: &'a mut RulesConfig, name: &str) -> &'a mut RuleConfig {
    cfg.rules.iter_mut().find(|r| r.name == name).unwrap()
}

#[test]
fn the_documented_example_parses_and_validates() {
    let cfg = example();
    cfg.validate(&coco_names()).unwrap();
    assert_eq!(cfg.zones[0].polygon.len(), 4);
    assert_eq!(cfg.rules.len(), 6);
    assert_eq!(cfg.rules[1].kind, RuleKind::LineCross);
    assert_eq!(cfg.rules[1].direction, Some(Direction::AToB));
    assert_eq!(cfg.rules[0].cooldown_s, Some(30.0));
    let e = RuleEngine::new(&cfg, &coco_names(), "gate", 768, 576).unwrap();
    assert_eq!(e.camera(), "gate");
    // serialising and parsing again gives the same config
    let again = RulesConfig::from_toml_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(again, cfg);
}

#[test]
fn an_empty_config_is_valid() {
    let cfg = RulesConfig::from_toml_str("").unwrap();
    assert!(cfg.is_empty());
    cfg.validate(&coco_names()).unwrap();
}

#[test]
fn toml_errors_carry_line_and_column() {
    // a syntax error on line 4
    let text =
        "[[zones]]\nname = \"a\"\npolygon = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]\nname = = \"b\"\n";
    let msg = RulesConfig::from_toml_str(text).unwrap_err().to_string();
    assert!(msg.contains("line 4"), "{msg}");
    assert!(msg.contains("column"), "{msg}");
    // a misspelt field on line 3
    let text = "[[zones]]\nname = \"a\"\npolgon = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]\n";
    let msg = RulesConfig::from_toml_str(text).unwrap_err().to_string();
    assert!(msg.contains("line 3") && msg.contains("polgon"), "{msg}");
    // an unknown kind names the ones that exist
    let text = "[[rules]]\nname = \"r\"\nkind = \"zone_entry\"\nzone = \"a\"\n";
    let msg = RulesConfig::from_toml_str(text).unwrap_err().to_string();
    assert!(
        msg.contains("line 3") && msg.contains("zone_entry") && msg.contains("zone_enter"),
        "{msg}"
    );
    // a bad direction
    let text =
        "[[rules]]\nname = \"r\"\nkind = \"line_cross\"\nline = \"l\"\ndirection = \"A-B\"\n";
    let msg = RulesConfig::from_toml_str(text).unwrap_err().to_string();
    assert!(msg.contains("line 5") && msg.contains("A->B"), "{msg}");
    // an unknown top-level key
    let msg = RulesConfig::from_toml_str("[[zone]]\nname = \"a\"\n")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("zone") && msg.contains("line 1"), "{msg}");
}

#[test]
fn unknown_zone_and_line_references() {
    let (err, msg) = error_after(|c| rule(c, "linger").zone = Some("sqare".into()));
    assert!(matches!(err, RulesError::UnknownZone { .. }));
    assert!(
        msg.contains("`linger`") && msg.contains("`sqare`") && msg.contains("`square`"),
        "{msg}"
    );

    let (err, msg) = error_after(|c| rule(c, "cross").line = Some("gate".into()));
    assert!(matches!(err, RulesError::UnknownLine { .. }));
    assert!(
        msg.contains("`cross`") && msg.contains("`gate`") && msg.contains("`crossing`"),
        "{msg}"
    );
}

#[test]
fn bad_geometry() {
    let (err, msg) = error_after(|c| c.zones[0].polygon.truncate(2));
    assert!(matches!(err, RulesError::PolygonTooSmall { points: 2, .. }));
    assert!(
        msg.contains("`square`") && msg.contains("at least 3"),
        "{msg}"
    );

    let (err, msg) = error_after(|c| c.zones[0].polygon[2] = [640.0, 0.95]);
    assert!(matches!(err, RulesError::OutOfRange { .. }));
    assert!(
        msg.contains("`square` point 3") && msg.contains("640") && msg.contains("divide pixel"),
        "{msg}"
    );

    let (err, msg) = error_after(|c| c.lines[0].to = [0.5, -0.1]);
    assert!(matches!(err, RulesError::OutOfRange { .. }));
    assert!(msg.contains("line `crossing` `to`"), "{msg}");

    let (err, _) = error_after(|c| c.lines[0].from[0] = f32::NAN);
    assert!(matches!(err, RulesError::OutOfRange { .. }));

    let (err, msg) = error_after(|c| c.lines[0].to = c.lines[0].from);
    assert!(matches!(err, RulesError::DegenerateLine { .. }), "{msg}");

    let (err, _) = error_after(|c| c.lines[0].margin = Some(0.5));
    assert!(matches!(err, RulesError::BadMargin { .. }));
}

#[test]
fn unknown_classes_suggest_the_right_spelling() {
    let (err, msg) = error_after(|c| rule(c, "enter-square").classes = vec!["persons".into()]);
    assert!(matches!(err, RulesError::UnknownClass { .. }));
    assert!(
        msg.contains("`enter-square`") && msg.contains("did you mean `person`"),
        "{msg}"
    );
    let (_, msg) = error_after(|c| rule(c, "bag").classes = vec!["hand bag".into()]);
    assert!(msg.contains("did you mean `handbag`"), "{msg}");
    let (_, msg) = error_after(|c| rule(c, "bag").classes = vec!["weapon".into()]);
    assert!(
        msg.contains("`weapon`") && !msg.contains("did you mean"),
        "{msg}"
    );
}

#[test]
fn fields_that_do_not_apply_to_the_kind() {
    let cases: Vec<Case> = vec![
        (
            "enter-square",
            Box::new(|r| r.direction = Some(Direction::Any)),
            "direction",
        ),
        (
            "enter-square",
            Box::new(|r| r.line = Some("crossing".into())),
            "line",
        ),
        (
            "cross",
            Box::new(|r| r.zone = Some("square".into())),
            "zone",
        ),
        (
            "cross",
            Box::new(|r| r.min_duration_s = Some(1.0)),
            "min_duration_s",
        ),
        ("linger", Box::new(|r| r.min_count = Some(3)), "min_count"),
        ("crowd", Box::new(|r| r.max_move = Some(0.1)), "max_move"),
        ("crowd", Box::new(|r| r.near = Some(0.1)), "near"),
        (
            "bag",
            Box::new(|r| r.expected = Some([1.0, 0.0])),
            "expected",
        ),
        (
            "linger",
            Box::new(|r| r.min_distance = Some(0.1)),
            "min_distance",
        ),
    ];
    for (name, edit, field) in cases {
        let (err, msg) = error_after(|c| edit(rule(c, name)));
        assert!(
            matches!(err, RulesError::NotApplicable { .. }),
            "{name}/{field}: {msg}"
        );
        assert!(
            msg.contains(&format!("`{name}`")) && msg.contains(&format!("`{field}`")),
            "{msg}"
        );
        assert!(msg.contains("remove it"), "{msg}");
    }
}

#[test]
fn missing_and_out_of_range_fields() {
    let cases: Vec<Case> = vec![
        ("enter-square", Box::new(|r| r.zone = None), "zone"),
        ("cross", Box::new(|r| r.line = None), "line"),
        ("crowd", Box::new(|r| r.min_count = None), "min_count"),
        (
            "linger",
            Box::new(|r| r.min_duration_s = None),
            "min_duration_s",
        ),
        ("bag", Box::new(|r| r.classes.clear()), "classes"),
        ("against", Box::new(|r| r.expected = None), "expected"),
    ];
    for (name, edit, field) in cases {
        let (err, msg) = error_after(|c| edit(rule(c, name)));
        assert!(
            matches!(err, RulesError::Missing { .. }),
            "{name}/{field}: {msg}"
        );
        assert!(
            msg.contains(&format!("`{name}`")) && msg.contains(&format!("needs `{field}`")),
            "{msg}"
        );
    }
    let bad: Vec<Case> = vec![
        (
            "enter-square",
            Box::new(|r| r.min_confidence = Some(1.5)),
            "min_confidence",
        ),
        (
            "enter-square",
            Box::new(|r| r.cooldown_s = Some(-1.0)),
            "cooldown_s",
        ),
        (
            "enter-square",
            Box::new(|r| r.min_duration_s = Some(f64::NAN)),
            "min_duration_s",
        ),
        (
            "linger",
            Box::new(|r| r.min_duration_s = Some(0.0)),
            "min_duration_s",
        ),
        ("crowd", Box::new(|r| r.min_count = Some(0)), "min_count"),
        ("bag", Box::new(|r| r.near = Some(0.0)), "near"),
        (
            "bag",
            Box::new(|r| r.classes.push("person".into())),
            "classes",
        ),
        (
            "against",
            Box::new(|r| r.expected = Some([0.0, 0.0])),
            "expected",
        ),
        (
            "against",
            Box::new(|r| r.min_distance = Some(-0.1)),
            "min_distance",
        ),
    ];
    for (name, edit, field) in bad {
        let (err, msg) = error_after(|c| edit(rule(c, name)));
        assert!(
            matches!(err, RulesError::BadValue { .. }),
            "{name}/{field}: {msg}"
        );
        assert!(
            msg.contains(&format!("`{name}`")) && msg.contains(field),
            "{msg}"
        );
    }
}

#[test]
fn duplicate_and_empty_names() {
    let (err, msg) = error_after(|c| rule(c, "crowd").name = "linger".into());
    assert!(matches!(
        err,
        RulesError::DuplicateName { what: "rule", .. }
    ));
    assert!(msg.contains("`linger`") && msg.contains("rename"), "{msg}");
    let (err, _) = error_after(|c| {
        let z = c.zones[0].clone();
        c.zones.push(z)
    });
    assert!(matches!(
        err,
        RulesError::DuplicateName { what: "zone", .. }
    ));
    let (err, msg) = error_after(|c| c.lines[0].name = " ".into());
    assert!(
        matches!(
            err,
            RulesError::EmptyName {
                what: "line",
                index: 1
            }
        ),
        "{msg}"
    );
    // a zone and a line may share a name: they are referred to by different keys
    let mut cfg = example();
    cfg.lines[0].name = "square".into();
    rule(&mut cfg, "cross").line = Some("square".into());
    cfg.validate(&coco_names()).unwrap();
}

#[test]
fn object_left_needs_a_person_class_and_the_engine_a_frame_size() {
    let cfg = example();
    let no_person: Vec<String> = coco_names().into_iter().filter(|n| n != "person").collect();
    let mut only_bags = cfg.clone();
    only_bags.rules.retain(|r| r.name == "bag");
    let err = only_bags.validate(&no_person).unwrap_err();
    assert!(matches!(err, RulesError::NoPersonClass { .. }), "{err}");
    let err = RuleEngine::new(&cfg, &coco_names(), "gate", 0, 576).unwrap_err();
    assert!(
        err.to_string().contains("camera `gate`") && err.to_string().contains("0x576"),
        "{err}"
    );
    // the engine validates too
    let mut broken = cfg.clone();
    broken.rules[0].zone = Some("nowhere".into());
    assert!(matches!(
        RuleEngine::new(&broken, &coco_names(), "gate", 768, 576),
        Err(RulesError::UnknownZone { .. })
    ));
}
