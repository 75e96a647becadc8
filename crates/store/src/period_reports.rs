//! What a period report reads of incidents: when, where, what, how it became known and the
//! aggregate flags of who was affected. Never the narrative, never anyone's account.
use domain::{Affected, Category, MahallaId, Scope, Source, Timestamp};

use crate::Store;
use crate::codec::{DbTs, RowExt, word};
use crate::error::{Result, db};

/// One incident as statistics see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IncidentFacts {
    pub at: Timestamp,
    pub mahalla: MahallaId,
    pub category: Category,
    pub source: Source,
    /// `[lon, lat]`, where recorded.
    pub point: Option<[f64; 2]>,
    pub affected: Affected,
}

/// `SELECT <facts> FROM incidents i <join and where> <time range> ORDER BY time, id`; `$1` and
/// `$2` bound the time (`[from, to)`), `$3` is the place.
macro_rules! select_facts {
    ($join_and_where:literal) => {
        concat!(
            "SELECT i.occurred_at, i.mahalla_id, i.category, i.source, i.lon, i.lat, ",
            "i.affected_minor, i.affected_youth, i.affected_woman FROM incidents i ",
            $join_and_where,
            "i.occurred_at >= $1 AND i.occurred_at < $2 ORDER BY i.occurred_at, i.id"
        )
    };
}

const FACTS_NATIONAL: &str = select_facts!("WHERE ");
const FACTS_REGION: &str = select_facts!(
    "JOIN mahallas m ON m.id = i.mahalla_id JOIN districts d ON d.id = m.district_id \
     WHERE d.region_id = $3 AND "
);
const FACTS_DISTRICT: &str =
    select_facts!("JOIN mahallas m ON m.id = i.mahalla_id WHERE m.district_id = $3 AND ");
const FACTS_MAHALLA: &str = select_facts!("WHERE i.mahalla_id = $3 AND ");

impl Store {
    /// The incidents that occurred in `[from, to)` in the mahallas of `place` (a scope names the
    /// place: the whole country, a region, a district or a mahalla), oldest first.
    pub async fn incident_facts(
        &self,
        place: &Scope,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<IncidentFacts>> {
        let sql = match place {
            Scope::National => FACTS_NATIONAL,
            Scope::Region(_) => FACTS_REGION,
            Scope::District(_) => FACTS_DISTRICT,
            Scope::Mahalla(_) => FACTS_MAHALLA,
        };
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql).bind(DbTs(from)).bind(DbTs(to));
            if let Some(id) = place.place_id() {
                q = q.bind(id);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("read incidents for a report"))?
                .iter()
                .map(|r| {
                    Ok(IncidentFacts {
                        at: r.ts("occurred_at")?,
                        mahalla: MahallaId(r.i64("mahalla_id")?),
                        category: word("incident category", &r.text("category")?)?,
                        source: word("incident source", &r.text("source")?)?,
                        point: match (r.f64_opt("lon")?, r.f64_opt("lat")?) {
                            (Some(lon), Some(lat)) => Some([lon, lat]),
                            _ => None,
                        },
                        affected: Affected {
                            minor: r.boolean("affected_minor")?,
                            youth: r.boolean("affected_youth")?,
                            woman: r.boolean("affected_woman")?,
                        },
                    })
                })
                .collect()
        })
    }
}
