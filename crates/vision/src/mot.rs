//! MOT Challenge text: one box per line, `frame,id,left,top,width,height,conf,x,y,z`, frames
//! counted from 1. Used for detections handed to the tracker, for its output, and for ground
//! truth when scoring it.
//!
//! Reading accepts 6 to 10 comma-separated fields (the MOT16+ 9-field ground truth, too); missing
//! trailing fields read as `-1`, MOT's "not given". Blank lines are skipped. Every error names the
//! file, the 1-based line, and the field.
use crate::detect::{Detection, TrackedObject};
use crate::geom::BBox;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One line of a MOT file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotRow {
    /// 1-based frame number.
    pub frame: u32,
    /// Track id; `-1` for detections without one.
    pub id: i64,
    /// `left, top, width, height` as a pixel box.
    pub bbox: BBox,
    /// Detection or track confidence; `-1` when not given.
    pub conf: f32,
    /// World coordinates, or `-1` (MOT 3D fields; unused in 2D).
    pub xyz: [f32; 3],
}

impl MotRow {
    /// A 2D row without world coordinates.
    pub fn new(frame: u32, id: i64, bbox: BBox, conf: f32) -> Self {
        Self {
            frame,
            id,
            bbox,
            conf,
            xyz: [-1.0; 3],
        }
    }
    /// The row as a tracker input. A confidence of `-1` (not given, as in tracker output files)
    /// counts as 1, a sure detection.
    pub fn detection(&self, class_id: u32) -> Detection {
        let score = if self.conf < 0.0 { 1.0 } else { self.conf };
        Detection {
            bbox: self.bbox,
            score,
            class_id,
        }
    }
    /// A tracker output as a row of `frame`.
    pub fn from_tracked(frame: u32, o: &TrackedObject) -> Self {
        Self::new(frame, o.id as i64, o.bbox, o.score)
    }
}

const FIELDS: [&str; 10] = [
    "frame", "id", "left", "top", "width", "height", "conf", "x", "y", "z",
];

#[derive(Debug, thiserror::Error)]
pub enum MotError {
    #[error("cannot read MOT file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write MOT file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{file}:{line}: field {index} ({name}) {problem}; a MOT line is \
         `frame,id,left,top,width,height,conf,x,y,z` with frame a whole number from 1"
    )]
    Field {
        file: String,
        line: usize,
        index: usize,
        name: &'static str,
        problem: String,
    },
    #[error(
        "{file}:{line}: {count} fields where 6 to 10 were expected; a MOT line is \
         `frame,id,left,top,width,height,conf,x,y,z`, separated by commas"
    )]
    FieldCount {
        file: String,
        line: usize,
        count: usize,
    },
}

/// Parse MOT text. `file` names the source in errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<MotRow>, MotError> {
    let mut rows = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let s = raw.trim();
        if s.is_empty() {
            continue;
        }
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if !(6..=10).contains(&parts.len()) {
            return Err(MotError::FieldCount {
                file: file.to_string(),
                line,
                count: parts.len(),
            });
        }
        let bad = |index: usize, problem: String| MotError::Field {
            file: file.to_string(),
            line,
            index: index + 1,
            name: FIELDS[index],
            problem,
        };
        let num = |index: usize| -> Result<f64, MotError> {
            let p = parts[index];
            let v: f64 = p
                .parse()
                .map_err(|_| bad(index, format!("is {p:?}, not a number")))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(bad(index, format!("is {p:?}, not a finite number")))
            }
        };
        let whole = |index: usize| -> Result<f64, MotError> {
            let v = num(index)?;
            if v.fract() != 0.0 {
                return Err(bad(
                    index,
                    format!("is {}, not a whole number", parts[index]),
                ));
            }
            Ok(v)
        };
        let frame = whole(0)?;
        if !(1.0..=f64::from(u32::MAX)).contains(&frame) {
            return Err(bad(0, format!("is {}, but frames count from 1", parts[0])));
        }
        let id = whole(1)?;
        if id.abs() > 9.0e15 {
            return Err(bad(1, format!("is {}, too large for an id", parts[1])));
        }
        let (l, t, w, h) = (num(2)?, num(3)?, num(4)?, num(5)?);
        if w < 0.0 {
            return Err(bad(4, format!("is {}, a negative width", parts[4])));
        }
        if h < 0.0 {
            return Err(bad(5, format!("is {}, a negative height", parts[5])));
        }
        let opt = |index: usize| -> Result<f32, MotError> {
            if index < parts.len() {
                Ok(num(index)? as f32)
            } else {
                Ok(-1.0)
            }
        };
        rows.push(MotRow {
            frame: frame as u32,
            id: id as i64,
            bbox: BBox::from_ltwh(l as f32, t as f32, w as f32, h as f32),
            conf: opt(6)?,
            xyz: [opt(7)?, opt(8)?, opt(9)?],
        });
    }
    Ok(rows)
}

/// Read and parse a MOT file.
pub fn read(path: &Path) -> Result<Vec<MotRow>, MotError> {
    let text = std::fs::read_to_string(path).map_err(|source| MotError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Format rows as MOT text, one line each, in the order given.
pub fn format(rows: &[MotRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(rows.len() * 48);
    for r in rows {
        let b = r.bbox;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{}",
            r.frame,
            r.id,
            num(b.x1),
            num(b.y1),
            num(b.width()),
            num(b.height()),
            num(r.conf),
            num(r.xyz[0]),
            num(r.xyz[1]),
            num(r.xyz[2]),
        );
    }
    s
}

/// Up to 3 decimals, without trailing zeros (`12`, `12.5`, `-1`).
fn num(v: f32) -> String {
    let s = format!("{:.3}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Write rows to a file (created or replaced).
pub fn write(path: &Path, rows: &[MotRow]) -> Result<(), MotError> {
    let err = |source| MotError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::create(path).map_err(err)?;
    f.write_all(format(rows).as_bytes()).map_err(err)?;
    f.flush().map_err(err)
}

/// Rows grouped by frame, for every frame from 1 to the last one present (frames without rows
/// get an empty list, so a tracker sees the gap). Rows keep their file order within a frame.
pub fn by_frame(rows: &[MotRow]) -> Vec<(u32, Vec<MotRow>)> {
    let mut map: BTreeMap<u32, Vec<MotRow>> = BTreeMap::new();
    for r in rows {
        map.entry(r.frame).or_default().push(*r);
    }
    let last = map.keys().next_back().copied().unwrap_or(0);
    (1..=last)
        .map(|f| (f, map.remove(&f).unwrap_or_default()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mot15_and_short_lines() {
        let text =
            "1,3,113.84,274.5,57.307,130.05,-1,-1,-1,-1\n\n2,-1,10,20,30,40,0.87\n3,1,0,0,5,6\n";
        let rows = parse(text, "t.txt").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].frame, 1);
        assert_eq!(rows[0].id, 3);
        assert!((rows[0].bbox.x2 - (113.84 + 57.307)).abs() < 1e-3);
        assert_eq!(rows[0].conf, -1.0);
        assert_eq!((rows[1].id, rows[1].conf), (-1, 0.87));
        assert_eq!(rows[2].conf, -1.0);
        assert_eq!(rows[2].xyz, [-1.0; 3]);
        assert_eq!(
            rows[0].detection(0).score,
            1.0,
            "conf -1 means a sure detection"
        );
        assert_eq!(
            rows[1].detection(4),
            Detection {
                bbox: rows[1].bbox,
                score: 0.87,
                class_id: 4
            }
        );
    }

    #[test]
    fn round_trips_through_format() {
        let rows = vec![
            MotRow::new(1, 1, BBox::from_ltwh(10.5, 20.25, 30.0, 40.125), 0.9),
            MotRow::new(7, 12, BBox::from_ltwh(-3.0, 0.0, 1.0, 2.0), -1.0),
        ];
        let text = format(&rows);
        assert_eq!(
            text.lines().next().unwrap(),
            "1,1,10.5,20.25,30,40.125,0.9,-1,-1,-1"
        );
        let back = parse(&text, "x").unwrap();
        assert_eq!(back, rows);
    }

    fn err(line: &str) -> String {
        parse(&format!("1,1,0,0,10,10,1,-1,-1,-1\n{line}\n"), "bad.txt")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_lines_name_the_line_and_field() {
        let e = err("2,1,abc,0,10,10,1,-1,-1,-1");
        assert!(
            e.starts_with("bad.txt:2: field 3 (left) is \"abc\", not a number"),
            "{e}"
        );
        let e = err("0,1,0,0,10,10");
        assert!(
            e.contains("bad.txt:2: field 1 (frame)") && e.contains("frames count from 1"),
            "{e}"
        );
        let e = err("1.5,1,0,0,10,10");
        assert!(
            e.contains("field 1 (frame) is 1.5, not a whole number"),
            "{e}"
        );
        let e = err("2,x,0,0,10,10");
        assert!(e.contains("field 2 (id)"), "{e}");
        let e = err("2,1,0,0,-10,10");
        assert!(
            e.contains("field 5 (width) is -10, a negative width"),
            "{e}"
        );
        let e = err("2,1,0,0,10,-1");
        assert!(e.contains("field 6 (height)"), "{e}");
        let e = err("2,1,0,0,10,10,nan");
        assert!(
            e.contains("field 7 (conf) is \"nan\", not a finite number"),
            "{e}"
        );
        let e = err("2,1,0,0,10,10,1,-1,-1,zz");
        assert!(e.contains("field 10 (z)"), "{e}");
        let e = err("2,1,0,0,10");
        assert!(
            e.contains("bad.txt:2: 5 fields where 6 to 10 were expected"),
            "{e}"
        );
        let e = err("2 1 0 0 10 10");
        assert!(e.contains("1 fields where 6 to 10"), "{e}");
        let e = err("2,1,0,0,10,10,1,-1,-1,-1,7");
        assert!(e.contains("11 fields"), "{e}");
    }

    #[test]
    fn read_names_a_missing_file() {
        let e = read(Path::new("/nonexistent/dir/det.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/dir/det.txt"), "{e}");
    }

    #[test]
    fn by_frame_fills_gaps() {
        let rows = parse("2,1,0,0,1,1\n4,1,0,0,1,1\n4,2,5,5,1,1\n", "x").unwrap();
        let g = by_frame(&rows);
        assert_eq!(
            g.iter().map(|(f, r)| (*f, r.len())).collect::<Vec<_>>(),
            vec![(1, 0), (2, 1), (3, 0), (4, 2)]
        );
        assert!(by_frame(&[]).is_empty());
    }
}
