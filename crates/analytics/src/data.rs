//! The inputs the safety analytics read: mahallas (with their district, region and population
//! where known), incidents (when, where, what, how they became known) and periods. The
//! vocabulary (ids, categories, sources, timestamps, areas) is `domain`'s, so the store's rows
//! map onto these one to one.
use std::collections::HashMap;

use domain::{Area, Category, DistrictId, MahallaId, RegionId, Source, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;

/// Uzbekistan's offset from UTC (UTC+5 all year, no daylight saving), in seconds: calendar
/// periods (a month, "the same month a year before") are local dates.
pub const UZ_OFFSET_S: i32 = 5 * 3600;

/// A mahalla as the analytics need it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MahallaRecord {
    pub id: MahallaId,
    pub district: DistrictId,
    pub region: RegionId,
    /// Residents, where known (must be positive; `None` when not known).
    pub population: Option<u32>,
}

/// One incident: when, in which mahalla, what, how it became known, and where (lon/lat), if
/// recorded. No person is named here: analytics are about places and times.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub at: Timestamp,
    pub mahalla: MahallaId,
    pub category: Category,
    pub source: Source,
    /// `[lon, lat]` in degrees (WGS 84), where recorded.
    pub point: Option<[f64; 2]>,
}

/// A half-open time interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Period {
    /// `[start, end)`; `end` must be after `start`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Period, Error> {
        if end <= start {
            return Err(Error::InvalidInput(format!(
                "period ends ({end}) at or before it starts ({start}); give an end after the start"
            )));
        }
        Ok(Period { start, end })
    }

    /// Length in microseconds.
    pub fn micros(&self) -> i64 {
        self.end.unix_micros() - self.start.unix_micros()
    }

    /// Length in days (fractional).
    pub fn days(&self) -> f64 {
        self.micros() as f64 / DAY_US as f64
    }

    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        Period {
            start: self.start.saturating_add_micros(-self.micros()),
            end: self.start,
        }
    }

    /// When the period runs from local midnight on the 1st of a month to local midnight on the
    /// 1st of a later month (a month, a quarter, a year), the same number of calendar months
    /// just before it: February before March, the last quarter of 2023 before the first of
    /// 2024. `None` for any other period.
    pub fn previous_calendar(&self, offset_s: i32) -> Option<Period> {
        let (y0, m0) = month_start(self.start, offset_s)?;
        let (y1, m1) = month_start(self.end, offset_s)?;
        let months = (y1 * 12 + i64::from(m1)) - (y0 * 12 + i64::from(m0));
        if months <= 0 {
            return None;
        }
        let k = y0 * 12 + i64::from(m0) - 1 - months;
        let (py, pm) = (k.div_euclid(12), (k.rem_euclid(12) + 1) as u32);
        Some(Period {
            start: local_midnight(py, pm, 1, offset_s),
            end: self.start,
        })
    }

    /// The same calendar dates and times one year earlier, in local time at `offset_s` seconds
    /// east of UTC (29 February becomes 28 February). A calendar month maps to the same month,
    /// a week to the same dates (not the same weekdays).
    pub fn year_before(&self, offset_s: i32) -> Period {
        Period {
            start: minus_one_year(self.start, offset_s),
            end: minus_one_year(self.end, offset_s),
        }
    }
}

fn minus_one_year(t: Timestamp, offset_s: i32) -> Timestamp {
    let off = i64::from(offset_s) * 1_000_000;
    let local = t.unix_micros() + off;
    let days = local.div_euclid(DAY_US);
    let rem = local.rem_euclid(DAY_US);
    let (y, m, d) = civil_from_days(days);
    let d = if m == 2 && d == 29 { 28 } else { d };
    let back = days_from_civil(y - 1, m, d);
    Timestamp::from_unix_micros(back * DAY_US + rem - off).unwrap_or(Timestamp::MIN)
}

/// `(year, month)` when `t` is local midnight on the 1st of a month.
fn month_start(t: Timestamp, offset_s: i32) -> Option<(i64, u32)> {
    let local = t.unix_micros() + i64::from(offset_s) * 1_000_000;
    if local.rem_euclid(DAY_US) != 0 {
        return None;
    }
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_US));
    (d == 1).then_some((y, m))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Midnight local time (at `offset_s`) at the start of a calendar date, as a timestamp.
pub fn local_midnight(y: i64, m: u32, d: u32, offset_s: i32) -> Timestamp {
    let us = days_from_civil(y, m, d) * DAY_US - i64::from(offset_s) * 1_000_000;
    Timestamp::from_unix_micros(us).unwrap_or(Timestamp::MIN)
}

/// The calendar month `y`-`m` in local time at `offset_s`.
pub fn month(y: i64, m: u32, offset_s: i32) -> Period {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Period {
        start: local_midnight(y, m, 1, offset_s),
        end: local_midnight(ny, nm, 1, offset_s),
    }
}

/// True when `area` (None: everywhere) covers mahalla `m`.
pub fn in_area(area: Option<&Area>, m: &MahallaRecord) -> bool {
    match area {
        None => true,
        Some(Area::Region { region }) => m.region == *region,
        Some(Area::District { district, .. }) => m.district == *district,
        Some(Area::Mahalla { mahalla, .. }) => m.id == *mahalla,
    }
}

/// Where a mahalla's exposure (the population its rate is per) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExposureBasis {
    /// Its own registered population.
    Population,
    /// Unknown: the mean population of the mahallas of its district whose population is known.
    DistrictMean,
    /// Unknown, and unknown for its whole district: the mean over its region.
    RegionMean,
    /// Unknown for its whole region too: the mean over every mahalla given.
    OverallMean,
    /// No population is known anywhere: every mahalla counts as one unit of exposure, so rates
    /// are per mahalla, not per resident.
    Equal,
}

impl ExposureBasis {
    /// True unless the mahalla's own population was used.
    pub fn imputed(self) -> bool {
        self != ExposureBasis::Population
    }
}

/// The mahallas indexed by id, with each one's exposure.
#[derive(Debug, Clone)]
pub struct Geography<'a> {
    pub mahallas: &'a [MahallaRecord],
    pub index: HashMap<MahallaId, usize>,
    pub exposure: Vec<f64>,
    pub basis: Vec<ExposureBasis>,
}

impl<'a> Geography<'a> {
    /// Index the mahallas and fill in each one's exposure: its population, or where that is
    /// unknown the mean of the known ones in its district (else region, else everywhere).
    /// Duplicate ids and a population of 0 are errors.
    pub fn new(mahallas: &'a [MahallaRecord]) -> Result<Geography<'a>, Error> {
        let mut index = HashMap::with_capacity(mahallas.len());
        for (i, m) in mahallas.iter().enumerate() {
            if index.insert(m.id, i).is_some() {
                return Err(Error::InvalidInput(format!(
                    "mahalla {} is listed twice; give each mahalla once",
                    m.id
                )));
            }
            if m.population == Some(0) {
                return Err(Error::InvalidInput(format!(
                    "mahalla {} has population 0; give its residents, or leave the population \
                     out (null) where it is not known",
                    m.id
                )));
            }
        }
        let mut by_district: HashMap<DistrictId, (f64, usize)> = HashMap::new();
        let mut by_region: HashMap<RegionId, (f64, usize)> = HashMap::new();
        let (mut all_sum, mut all_n) = (0.0, 0usize);
        for m in mahallas {
            if let Some(p) = m.population {
                let p = f64::from(p);
                let e = by_district.entry(m.district).or_default();
                e.0 += p;
                e.1 += 1;
                let e = by_region.entry(m.region).or_default();
                e.0 += p;
                e.1 += 1;
                all_sum += p;
                all_n += 1;
            }
        }
        let mean = |e: Option<&(f64, usize)>| e.filter(|e| e.1 > 0).map(|e| e.0 / e.1 as f64);
        let mut exposure = Vec::with_capacity(mahallas.len());
        let mut basis = Vec::with_capacity(mahallas.len());
        for m in mahallas {
            let (e, b) = if let Some(p) = m.population {
                (f64::from(p), ExposureBasis::Population)
            } else if let Some(v) = mean(by_district.get(&m.district)) {
                (v, ExposureBasis::DistrictMean)
            } else if let Some(v) = mean(by_region.get(&m.region)) {
                (v, ExposureBasis::RegionMean)
            } else if all_n > 0 {
                (all_sum / all_n as f64, ExposureBasis::OverallMean)
            } else {
                (1.0, ExposureBasis::Equal)
            };
            exposure.push(e);
            basis.push(b);
        }
        Ok(Geography {
            mahallas,
            index,
            exposure,
            basis,
        })
    }

    /// True when every exposure is 1 because no population is known at all.
    pub fn per_mahalla(&self) -> bool {
        self.basis.first() == Some(&ExposureBasis::Equal)
    }
}

/// A set of incident sources, e.g. only reports by the public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SourceSet(u8);

impl SourceSet {
    pub fn of(sources: &[Source]) -> SourceSet {
        SourceSet(sources.iter().fold(0, |acc, s| acc | SourceSet::bit(*s)))
    }

    pub fn all() -> SourceSet {
        SourceSet::of(Source::ALL)
    }

    fn bit(s: Source) -> u8 {
        1 << (Source::ALL.iter().position(|x| *x == s).unwrap_or(0) as u8)
    }

    #[inline]
    pub fn contains(self, s: Source) -> bool {
        self.0 & SourceSet::bit(s) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The sources in the set, in `Source::ALL` order.
    pub fn to_vec(self) -> Vec<Source> {
        Source::ALL
            .iter()
            .copied()
            .filter(|s| self.contains(*s))
            .collect()
    }

    /// True when the set holds both reports by the public and finds by patrols: counts of the two
    /// together follow where patrols already go (see docs/design/013).
    pub fn mixes_public_and_patrol(self) -> bool {
        self.contains(Source::Public) && self.contains(Source::Patrol)
    }
}

impl Serialize for SourceSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_vec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for SourceSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<Source>::deserialize(d)?;
        Ok(SourceSet::of(&v))
    }
}

/// A set of categories, `None` meaning every category.
pub fn category_allowed(filter: Option<&[Category]>, c: Category) -> bool {
    filter.is_none_or(|f| f.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn months_and_years_in_local_time() {
        let march = month(2024, 3, UZ_OFFSET_S);
        assert_eq!(march.start, ts("2024-03-01T00:00:00+05:00"));
        assert_eq!(march.end, ts("2024-04-01T00:00:00+05:00"));
        assert_eq!(march.days(), 31.0);
        let yb = march.year_before(UZ_OFFSET_S);
        assert_eq!(yb, month(2023, 3, UZ_OFFSET_S));
        assert_eq!(
            march.previous_calendar(UZ_OFFSET_S),
            Some(month(2024, 2, UZ_OFFSET_S))
        );
        let q1 = Period::new(march.start, month(2024, 6, UZ_OFFSET_S).start).unwrap();
        assert_eq!(
            q1.previous_calendar(UZ_OFFSET_S).unwrap().start,
            month(2023, 12, UZ_OFFSET_S).start
        );
        let jan = month(2024, 1, UZ_OFFSET_S);
        assert_eq!(
            jan.previous_calendar(UZ_OFFSET_S),
            Some(month(2023, 12, UZ_OFFSET_S))
        );
        let feb = month(2024, 2, UZ_OFFSET_S);
        assert_eq!(feb.previous().days(), 29.0);
        assert_eq!(feb.previous().start, ts("2024-01-03T00:00:00+05:00"));
        // 29 February maps to 28 February.
        let leap = Period::new(
            ts("2024-02-29T10:00:00+05:00"),
            ts("2024-03-01T00:00:00+05:00"),
        )
        .unwrap();
        assert_eq!(
            leap.year_before(UZ_OFFSET_S).start,
            ts("2023-02-28T10:00:00+05:00")
        );
        assert_eq!(leap.previous_calendar(UZ_OFFSET_S), None);
        assert!(Period::new(march.end, march.start).is_err());
    }

    fn m(id: i64, d: i64, r: i64, p: Option<u32>) -> MahallaRecord {
        MahallaRecord {
            id: MahallaId(id),
            district: DistrictId(d),
            region: RegionId(r),
            population: p,
        }
    }

    #[test]
    fn exposure_falls_back_district_region_overall() {
        let ms = [
            m(1, 10, 100, Some(1000)),
            m(2, 10, 100, Some(3000)),
            m(3, 10, 100, None), // district mean 2000
            m(4, 11, 100, None), // district 11 has none: region mean (1000+3000+5000)/3
            m(5, 12, 100, Some(5000)),
            m(6, 20, 200, None), // region 200 has none: overall mean 3000
        ];
        let g = Geography::new(&ms).unwrap();
        assert_eq!(
            g.exposure,
            vec![1000.0, 3000.0, 2000.0, 3000.0, 5000.0, 3000.0]
        );
        assert_eq!(
            g.basis,
            vec![
                ExposureBasis::Population,
                ExposureBasis::Population,
                ExposureBasis::DistrictMean,
                ExposureBasis::RegionMean,
                ExposureBasis::Population,
                ExposureBasis::OverallMean
            ]
        );
        assert!(Geography::new(&[m(1, 1, 1, Some(0))]).is_err());
        assert!(Geography::new(&[m(1, 1, 1, None), m(1, 1, 1, None)]).is_err());
        let nobody = [m(1, 1, 1, None), m(2, 1, 1, None)];
        let none = Geography::new(&nobody).unwrap();
        assert!(none.per_mahalla());
        assert_eq!(none.exposure, vec![1.0, 1.0]);
    }

    #[test]
    fn source_sets() {
        let s = SourceSet::of(&[Source::Public, Source::Camera]);
        assert!(s.contains(Source::Public) && !s.contains(Source::Patrol));
        assert!(!s.mixes_public_and_patrol());
        assert!(SourceSet::all().mixes_public_and_patrol());
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["public","camera"]"#);
        let back: SourceSet = serde_json::from_str(r#"["camera","public"]"#).unwrap();
        assert_eq!(back, s);
    }
}
