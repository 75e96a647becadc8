//! Greedy non-maximum suppression.
//!
//! Candidates are sorted once by score; each is kept unless it overlaps an already kept box of the
//! same class by more than the IoU threshold. Kept boxes are bucketed per class, so a candidate is
//! compared only with its own class; `max_keep` stops the scan early.
use crate::detect::Detection;

/// Per-class greedy NMS. Returns the kept detections, highest score first.
pub fn nms(dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    nms_limited(dets, iou_threshold, usize::MAX, false)
}

/// Greedy NMS with a cap on the number kept and an option to suppress across classes.
pub fn nms_limited(
    mut dets: Vec<Detection>,
    iou_threshold: f32,
    max_keep: usize,
    class_agnostic: bool,
) -> Vec<Detection> {
    dets.retain(|d| d.score.is_finite());
    dets.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::with_capacity(dets.len().min(max_keep).min(256));
    // Kept boxes per class: index into `kept`.
    let mut by_class: Vec<Vec<usize>> = Vec::new();
    for d in dets {
        if kept.len() >= max_keep {
            break;
        }
        let bucket = if class_agnostic {
            0
        } else {
            d.class_id as usize
        };
        if by_class.len() <= bucket {
            by_class.resize_with(bucket + 1, Vec::new);
        }
        let area = d.bbox.area();
        let suppressed = by_class[bucket].iter().any(|&k| {
            let o = &kept[k].bbox;
            let inter = d.bbox.intersection(o);
            // inter / union > t  <=>  inter > t * union (avoids a division)
            inter > iou_threshold * (area + o.area() - inter)
        });
        if !suppressed {
            by_class[bucket].push(kept.len());
            kept.push(d);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::BBox;

    fn det(x: f32, score: f32, class_id: u32) -> Detection {
        Detection {
            bbox: BBox::new(x, 0.0, x + 10.0, 10.0),
            score,
            class_id,
        }
    }

    #[test]
    fn suppresses_overlaps_within_a_class_only() {
        let out = nms(
            vec![
                det(0.0, 0.5, 0),
                det(1.0, 0.9, 0),
                det(1.0, 0.8, 1),
                det(50.0, 0.3, 0),
            ],
            0.45,
        );
        assert_eq!(
            out,
            vec![det(1.0, 0.9, 0), det(1.0, 0.8, 1), det(50.0, 0.3, 0)]
        );
    }

    #[test]
    fn threshold_is_strict_and_agnostic_mode_crosses_classes() {
        // IoU of boxes offset by 5 px: 50 / 150 = 1/3.
        let a = det(0.0, 0.9, 0);
        let b = det(5.0, 0.8, 1);
        assert_eq!(nms_limited(vec![a, b], 0.34, 10, true).len(), 2);
        assert_eq!(nms_limited(vec![a, b], 0.33, 10, true).len(), 1);
        assert_eq!(nms_limited(vec![a, b], 0.33, 10, false).len(), 2);
        assert_eq!(
            nms_limited(vec![a, det(40.0, 0.1, 0)], 0.5, 1, false),
            vec![a]
        );
    }

    #[test]
    fn drops_nan_scores() {
        assert_eq!(
            nms(vec![det(0.0, f32::NAN, 0), det(30.0, 0.2, 0)], 0.5),
            vec![det(30.0, 0.2, 0)]
        );
    }
}
