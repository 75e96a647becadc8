//! The constant-velocity Kalman filter of SORT / DeepSORT / ByteTrack.
//!
//! State: box centre `cx, cy`, aspect ratio `a = w / h`, height `h`, and their velocities
//! (per frame). Measurement: `cx, cy, a, h`. Process and measurement noise scale with the box
//! height, so a near (tall) person may move more pixels per frame than a far one; the weights are
//! ByteTrack's (`1/20` of the height for position, `1/160` for velocity).
// Matrix code reads best with the indices of the formulas it implements.
#![allow(clippy::needless_range_loop)]

use crate::geom::BBox;

pub type Vec8 = [f64; 8];
pub type Mat8 = [[f64; 8]; 8];
type Vec4 = [f64; 4];
type Mat4 = [[f64; 4]; 4];

const STD_WEIGHT_POSITION: f64 = 1.0 / 20.0;
const STD_WEIGHT_VELOCITY: f64 = 1.0 / 160.0;

/// Mean and covariance of one track's state.
#[derive(Debug, Clone, PartialEq)]
pub struct KalmanState {
    pub mean: Vec8,
    pub cov: Mat8,
}

/// `[cx, cy, a, h]` of a box. Degenerate boxes get a height of at least `1e-3`.
pub fn bbox_to_xyah(b: &BBox) -> Vec4 {
    let w = f64::from(b.width());
    let h = f64::from(b.height()).max(1e-3);
    let c = b.center();
    [f64::from(c.x), f64::from(c.y), w / h, h]
}

/// The box of a state's (or measurement's) first four components.
pub fn xyah_to_bbox(m: &[f64]) -> BBox {
    let h = m[3].max(0.0);
    let w = (m[2] * h).max(0.0);
    BBox::from_cxcywh(m[0] as f32, m[1] as f32, w as f32, h as f32)
}

impl KalmanState {
    /// A new track from its first measurement: zero velocity, wide uncertainty on velocity.
    pub fn initiate(b: &BBox) -> Self {
        let z = bbox_to_xyah(b);
        let h = z[3];
        let mut mean = [0.0; 8];
        mean[..4].copy_from_slice(&z);
        let std = [
            2.0 * STD_WEIGHT_POSITION * h,
            2.0 * STD_WEIGHT_POSITION * h,
            1e-2,
            2.0 * STD_WEIGHT_POSITION * h,
            10.0 * STD_WEIGHT_VELOCITY * h,
            10.0 * STD_WEIGHT_VELOCITY * h,
            1e-5,
            10.0 * STD_WEIGHT_VELOCITY * h,
        ];
        let mut cov = [[0.0; 8]; 8];
        for i in 0..8 {
            cov[i][i] = std[i] * std[i];
        }
        Self { mean, cov }
    }

    /// Advance one frame: `x' = F x`, `P' = F P Fᵀ + Q`.
    pub fn predict(&mut self) {
        let h = self.mean[3];
        let q = [
            STD_WEIGHT_POSITION * h,
            STD_WEIGHT_POSITION * h,
            1e-2,
            STD_WEIGHT_POSITION * h,
            STD_WEIGHT_VELOCITY * h,
            STD_WEIGHT_VELOCITY * h,
            1e-5,
            STD_WEIGHT_VELOCITY * h,
        ];
        for i in 0..4 {
            self.mean[i] += self.mean[i + 4];
        }
        // F P Fᵀ with F = [[I, I], [0, I]]: add velocity rows to position rows, then columns.
        let p = &mut self.cov;
        for i in 0..4 {
            for j in 0..8 {
                p[i][j] += p[i + 4][j];
            }
        }
        for row in p.iter_mut() {
            for j in 0..4 {
                row[j] += row[j + 4];
            }
        }
        for i in 0..8 {
            p[i][i] += q[i] * q[i];
        }
    }

    /// The measurement the state predicts and its covariance `S = H P Hᵀ + R`.
    pub fn project(&self) -> (Vec4, Mat4) {
        let h = self.mean[3];
        let r = [
            STD_WEIGHT_POSITION * h,
            STD_WEIGHT_POSITION * h,
            1e-1,
            STD_WEIGHT_POSITION * h,
        ];
        let mut s = [[0.0; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                s[i][j] = self.cov[i][j];
            }
            s[i][i] += r[i] * r[i];
        }
        let mut m = [0.0; 4];
        m.copy_from_slice(&self.mean[..4]);
        (m, s)
    }

    /// Correct with a measured box.
    pub fn update(&mut self, b: &BBox) {
        let z = bbox_to_xyah(b);
        let (zm, s) = self.project();
        let Some(s_inv) = invert4(&s) else {
            // S is P's top-left block plus a positive diagonal, so this cannot happen for a
            // state built by `initiate`; keep the prediction rather than poison the state.
            return;
        };
        // K = P Hᵀ S⁻¹ (8x4); P Hᵀ is the first four columns of P.
        let mut k = [[0.0; 4]; 8];
        for (i, krow) in k.iter_mut().enumerate() {
            for (j, kij) in krow.iter_mut().enumerate() {
                *kij = (0..4).map(|l| self.cov[i][l] * s_inv[l][j]).sum();
            }
        }
        let innov = [z[0] - zm[0], z[1] - zm[1], z[2] - zm[2], z[3] - zm[3]];
        for (i, krow) in k.iter().enumerate() {
            self.mean[i] += (0..4).map(|j| krow[j] * innov[j]).sum::<f64>();
        }
        // P' = P - K S Kᵀ  (= P - K H P, written in the symmetric form)
        let mut ks = [[0.0; 4]; 8];
        for i in 0..8 {
            for j in 0..4 {
                ks[i][j] = (0..4).map(|l| k[i][l] * s[l][j]).sum();
            }
        }
        for i in 0..8 {
            for j in 0..8 {
                self.cov[i][j] -= (0..4).map(|l| ks[i][l] * k[j][l]).sum::<f64>();
            }
        }
        // keep it exactly symmetric against rounding drift
        for i in 0..8 {
            for j in (i + 1)..8 {
                let v = 0.5 * (self.cov[i][j] + self.cov[j][i]);
                self.cov[i][j] = v;
                self.cov[j][i] = v;
            }
        }
    }

    /// The box of the current mean.
    pub fn bbox(&self) -> BBox {
        xyah_to_bbox(&self.mean)
    }
}

/// Inverse of a 4x4 matrix by Gauss-Jordan elimination with partial pivoting; `None` if singular.
fn invert4(m: &Mat4) -> Option<Mat4> {
    let mut a = *m;
    let mut inv = [[0.0; 4]; 4];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..4 {
        let piv = (col..4).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        inv.swap(col, piv);
        let d = a[col][col];
        for j in 0..4 {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for r in 0..4 {
            if r != col {
                let f = a[r][col];
                if f != 0.0 {
                    for j in 0..4 {
                        a[r][j] -= f * a[col][j];
                        inv[r][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_symmetric_psd_diag(p: &Mat8) -> bool {
        (0..8).all(|i| p[i][i] > 0.0 && (0..8).all(|j| (p[i][j] - p[j][i]).abs() < 1e-9))
    }

    #[test]
    fn xyah_round_trips() {
        let b = BBox::new(10.0, 20.0, 50.0, 120.0);
        let z = bbox_to_xyah(&b);
        assert_eq!(z, [30.0, 70.0, 0.4, 100.0]);
        let back = xyah_to_bbox(&z);
        assert!((back.x1 - 10.0).abs() < 1e-4 && (back.y2 - 120.0).abs() < 1e-4);
    }

    #[test]
    fn invert4_inverts() {
        let m = [
            [4.0, 1.0, 0.0, 0.5],
            [1.0, 3.0, 0.2, 0.0],
            [0.0, 0.2, 2.0, 0.1],
            [0.5, 0.0, 0.1, 1.0],
        ];
        let inv = invert4(&m).unwrap();
        for i in 0..4 {
            for j in 0..4 {
                let v: f64 = (0..4).map(|l| m[i][l] * inv[l][j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(
            invert4(&[
                [1.0, 2.0, 0.0, 0.0],
                [2.0, 4.0, 0.0, 0.0],
                [0.0; 4],
                [0.0; 4]
            ])
            .is_none()
        );
    }

    #[test]
    fn predict_moves_by_velocity_and_grows_uncertainty() {
        let mut k = KalmanState::initiate(&BBox::from_ltwh(100.0, 100.0, 40.0, 100.0));
        k.mean[4] = 3.0;
        k.mean[5] = -2.0;
        let before = k.cov;
        k.predict();
        assert!((k.mean[0] - 123.0).abs() < 1e-9 && (k.mean[1] - 148.0).abs() < 1e-9);
        for i in 0..8 {
            assert!(
                k.cov[i][i] > before[i][i],
                "variance {i} must grow on predict"
            );
        }
        assert!(is_symmetric_psd_diag(&k.cov));
        // position picks up the velocity variance: P[0][0]' = P00 + P44 + q0²
        let q0 = STD_WEIGHT_POSITION * 100.0;
        assert!((k.cov[0][0] - (before[0][0] + before[4][4] + q0 * q0)).abs() < 1e-9);
        assert!((k.cov[0][4] - before[4][4]).abs() < 1e-9);
    }

    #[test]
    fn update_with_the_predicted_box_keeps_the_mean_and_shrinks_covariance() {
        let mut k = KalmanState::initiate(&BBox::from_ltwh(100.0, 100.0, 40.0, 100.0));
        k.predict();
        let mean = k.mean;
        let var = k.cov;
        k.update(&k.bbox());
        for i in 0..8 {
            assert!((k.mean[i] - mean[i]).abs() < 1e-4, "component {i} moved");
            assert!(
                k.cov[i][i] < var[i][i],
                "variance {i} must shrink on update"
            );
        }
        assert!(is_symmetric_psd_diag(&k.cov));
    }

    #[test]
    fn learns_constant_velocity_and_predicts_through_a_gap() {
        // a box moving +4 px/frame right, +1 down, growing 0.5 px/frame in height
        let at = |t: f64| {
            BBox::from_ltwh(
                (50.0 + 4.0 * t) as f32,
                (80.0 + t) as f32,
                40.0,
                (100.0 + 0.5 * t) as f32,
            )
        };
        let mut k = KalmanState::initiate(&at(0.0));
        for t in 1..30 {
            k.predict();
            k.update(&at(f64::from(t)));
        }
        assert!((k.mean[4] - 4.0).abs() < 0.1, "vx {}", k.mean[4]);
        assert!((k.mean[5] - 1.25).abs() < 0.1, "vy {}", k.mean[5]); // centre y moves 1 + 0.25
        assert!((k.mean[7] - 0.5).abs() < 0.05, "vh {}", k.mean[7]);
        // ten frames without measurements: the prediction still overlaps the truth well
        for _ in 0..10 {
            k.predict();
        }
        let iou = k.bbox().iou(&at(39.0));
        assert!(
            iou > 0.9,
            "predicted box after a 10-frame gap has IoU {iou}"
        );
    }

    #[test]
    fn noisy_measurements_are_smoothed() {
        // deterministic ±6 px jitter around a static box: the filtered centre stays closer
        let truth = BBox::from_ltwh(200.0, 100.0, 50.0, 120.0);
        let mut k = KalmanState::initiate(&truth);
        let mut err_meas = 0.0;
        let mut err_filt = 0.0;
        for t in 0..40 {
            let j = if t % 2 == 0 { 6.0 } else { -6.0 };
            let m = BBox::from_ltwh(200.0 + j, 100.0 - j, 50.0, 120.0);
            k.predict();
            k.update(&m);
            if t >= 10 {
                err_meas += f64::from((m.center().x - truth.center().x).abs());
                err_filt += (k.mean[0] - f64::from(truth.center().x)).abs();
            }
        }
        assert!(
            err_filt < 0.7 * err_meas,
            "filtered {err_filt} vs raw {err_meas}"
        );
    }
}
