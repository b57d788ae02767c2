//! Threat zones (PRODUCT §3.3): a polygon or circle with a severity 1–5, a kind, a validity
//! window and a source. Severity 4 and 5 are avoided outright unless no route exists.

use crate::ValidationError;
use crate::geo::{Coordinate, Polygon};

/// The area a zone covers.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneShape {
    /// A simple polygon.
    Polygon(Polygon),
    /// A circle around a point.
    Circle {
        /// Centre.
        center: Coordinate,
        /// Radius in metres (1 m to 50 km).
        radius_m: f64,
    },
}

/// What the threat is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZoneKind {
    /// Hostile surveillance observed.
    HostileSurveillance,
    /// Risk of improvised explosive devices.
    IedRisk,
    /// Unrest, demonstrations.
    Unrest,
    /// A checkpoint (own or other).
    Checkpoint,
    /// Anything else.
    Other,
}

impl ZoneKind {
    /// Every kind, in a stable order.
    pub const ALL: [ZoneKind; 5] = [
        ZoneKind::HostileSurveillance,
        ZoneKind::IedRisk,
        ZoneKind::Unrest,
        ZoneKind::Checkpoint,
        ZoneKind::Other,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ZoneKind::HostileSurveillance => "hostile_surveillance",
            ZoneKind::IedRisk => "ied_risk",
            ZoneKind::Unrest => "unrest",
            ZoneKind::Checkpoint => "checkpoint",
            ZoneKind::Other => "other",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            ValidationError::new(
                "/properties/kind",
                format!("unknown kind {s:?}; known: hostile_surveillance, ied_risk, unrest, checkpoint, other"),
            )
        })
    }
}

/// Severity at which a zone is avoided outright.
pub const AVOID_SEVERITY: u8 = 4;

/// A threat zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreatZone {
    /// Area.
    pub shape: ZoneShape,
    /// Severity 1 (low) to 5 (extreme).
    pub severity: u8,
    /// Kind.
    pub kind: ZoneKind,
    /// Active from (Unix seconds).
    pub valid_from: i64,
    /// Active until (Unix seconds), if bounded.
    pub valid_until: Option<i64>,
}

impl ThreatZone {
    /// Validates a zone.
    pub fn new(
        shape: ZoneShape,
        severity: u8,
        kind: ZoneKind,
        valid_from: i64,
        valid_until: Option<i64>,
    ) -> Result<Self, ValidationError> {
        if !(1..=5).contains(&severity) {
            return Err(ValidationError::new("/severity", "severity is 1 (low) to 5 (extreme)"));
        }
        if let ZoneShape::Circle { radius_m, .. } = shape
            && !(radius_m.is_finite() && (1.0..=50_000.0).contains(&radius_m))
        {
            return Err(ValidationError::new("/radius_m", "a circle's radius is 1 m to 50 km"));
        }
        if valid_until.is_some_and(|u| u <= valid_from) {
            return Err(ValidationError::new("/valid_until", "a zone must end after it starts"));
        }
        Ok(Self {
            shape,
            severity,
            kind,
            valid_from,
            valid_until,
        })
    }

    /// Whether the zone is active at `t` (Unix seconds).
    pub fn active_at(&self, t: i64) -> bool {
        t >= self.valid_from && self.valid_until.is_none_or(|u| t < u)
    }

    /// Whether routes avoid this zone outright.
    pub fn avoided(&self) -> bool {
        self.severity >= AVOID_SEVERITY
    }

    /// The bounding box `(min_lat, min_lon, max_lat, max_lon)`.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        match &self.shape {
            ZoneShape::Polygon(p) => p
                .ring()
                .iter()
                .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |(a, b, c, d), q| {
                    (a.min(q.lat()), b.min(q.lon()), c.max(q.lat()), d.max(q.lon()))
                }),
            ZoneShape::Circle { center, radius_m } => {
                let dlat = radius_m / 111_195.0;
                let dlon = dlat / center.lat().to_radians().cos().max(0.01);
                (
                    center.lat() - dlat,
                    center.lon() - dlon,
                    center.lat() + dlat,
                    center.lon() + dlon,
                )
            }
        }
    }

    /// Whether the point (`lat`, `lon`) is inside the zone.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        let lat0 = lat.to_radians();
        let project = |p: (f64, f64)| (p.1 * 111_195.0 * lat0.cos(), p.0 * 111_195.0);
        let pt = project((lat, lon));
        match &self.shape {
            ZoneShape::Circle { center, radius_m } => {
                let c = project((center.lat(), center.lon()));
                ((pt.0 - c.0).powi(2) + (pt.1 - c.1).powi(2)).sqrt() <= *radius_m
            }
            ZoneShape::Polygon(p) => {
                let ring: Vec<(f64, f64)> = p.ring().iter().map(|q| project((q.lat(), q.lon()))).collect();
                let mut inside = false;
                for w in ring.windows(2) {
                    let &[p0, p1] = w else { continue };
                    if (p0.1 > pt.1) != (p1.1 > pt.1) && pt.0 < (p1.0 - p0.0) * (pt.1 - p0.1) / (p1.1 - p0.1) + p0.0 {
                        inside = !inside;
                    }
                }
                inside
            }
        }
    }

    /// Length in metres of the segment `a`–`b` inside the zone (segments are short, so a
    /// local equirectangular projection is exact enough).
    pub fn length_inside(&self, a: (f64, f64), b: (f64, f64)) -> f64 {
        let lat0 = ((a.0 + b.0) / 2.0).to_radians();
        let project = |p: (f64, f64)| (p.1 * 111_195.0 * lat0.cos(), p.0 * 111_195.0);
        let (pa, pb) = (project(a), project(b));
        let seg_len = ((pb.0 - pa.0).powi(2) + (pb.1 - pa.1).powi(2)).sqrt();
        if seg_len == 0.0 {
            return 0.0;
        }
        let at = |t: f64| (pa.0 + (pb.0 - pa.0) * t, pa.1 + (pb.1 - pa.1) * t);
        match &self.shape {
            ZoneShape::Circle { center, radius_m } => {
                let c = project((center.lat(), center.lon()));
                // |pa + t(pb - pa) - c|² = r²
                let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
                let (fx, fy) = (pa.0 - c.0, pa.1 - c.1);
                let qa = dx * dx + dy * dy;
                let qb = 2.0 * (fx * dx + fy * dy);
                let qc = fx * fx + fy * fy - radius_m * radius_m;
                let disc = qb * qb - 4.0 * qa * qc;
                if disc <= 0.0 {
                    return 0.0;
                }
                let s = disc.sqrt();
                let t0 = ((-qb - s) / (2.0 * qa)).clamp(0.0, 1.0);
                let t1 = ((-qb + s) / (2.0 * qa)).clamp(0.0, 1.0);
                (t1 - t0).max(0.0) * seg_len
            }
            ZoneShape::Polygon(p) => {
                let ring: Vec<(f64, f64)> = p.ring().iter().map(|q| project((q.lat(), q.lon()))).collect();
                // Parameters where the segment crosses the ring, then inside/outside between.
                let mut ts = vec![0.0, 1.0];
                for w in ring.windows(2) {
                    let &[q0, q1] = w else { continue };
                    let r = (pb.0 - pa.0, pb.1 - pa.1);
                    let sv = (q1.0 - q0.0, q1.1 - q0.1);
                    let denom = r.0 * sv.1 - r.1 * sv.0;
                    if denom.abs() < 1e-12 {
                        continue;
                    }
                    let qp = (q0.0 - pa.0, q0.1 - pa.1);
                    let t = (qp.0 * sv.1 - qp.1 * sv.0) / denom;
                    let u = (qp.0 * r.1 - qp.1 * r.0) / denom;
                    if (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u) {
                        ts.push(t);
                    }
                }
                ts.sort_by(f64::total_cmp);
                let inside = |pt: (f64, f64)| {
                    let mut c = false;
                    for w in ring.windows(2) {
                        let &[p0, p1] = w else { continue };
                        if (p0.1 > pt.1) != (p1.1 > pt.1) && pt.0 < (p1.0 - p0.0) * (pt.1 - p0.1) / (p1.1 - p0.1) + p0.0
                        {
                            c = !c;
                        }
                    }
                    c
                };
                ts.windows(2)
                    .filter_map(|w| match *w {
                        [t0, t1] if t1 > t0 && inside(at((t0 + t1) / 2.0)) => Some((t1 - t0) * seg_len),
                        _ => None,
                    })
                    .sum()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> ZoneShape {
        ZoneShape::Polygon(
            Polygon::from_positions(&[
                [67.0, 24.86],
                [67.01, 24.86],
                [67.01, 24.87],
                [67.0, 24.87],
                [67.0, 24.86],
            ])
            .unwrap(),
        )
    }

    #[test]
    fn validation_and_validity() {
        assert!(ThreatZone::new(square(), 0, ZoneKind::Unrest, 0, None).is_err());
        assert!(ThreatZone::new(square(), 6, ZoneKind::Unrest, 0, None).is_err());
        assert!(ThreatZone::new(square(), 3, ZoneKind::Unrest, 10, Some(10)).is_err());
        let c = ZoneShape::Circle {
            center: Coordinate::new(24.86, 67.0).unwrap(),
            radius_m: 0.0,
        };
        assert_eq!(
            ThreatZone::new(c, 3, ZoneKind::IedRisk, 0, None).unwrap_err().field,
            "/radius_m"
        );
        let z = ThreatZone::new(square(), 4, ZoneKind::IedRisk, 100, Some(200)).unwrap();
        assert!(z.avoided() && !z.active_at(99) && z.active_at(100) && !z.active_at(200));
    }

    #[test]
    fn lengths_inside() {
        let z = ThreatZone::new(square(), 3, ZoneKind::Unrest, 0, None).unwrap();
        // Fully inside, crossing half, outside.
        let inside = z.length_inside((24.862, 67.002), (24.862, 67.008));
        let total = 0.006 * 111_195.0 * (24.862f64).to_radians().cos();
        assert!((inside - total).abs() < 1.0, "{inside} vs {total}");
        let half = z.length_inside((24.865, 67.005), (24.865, 67.015));
        assert!((half - total * 5.0 / 6.0).abs() < 2.0, "{half}");
        assert_eq!(z.length_inside((24.90, 67.0), (24.91, 67.0)), 0.0);
        let circle = ThreatZone::new(
            ZoneShape::Circle {
                center: Coordinate::new(24.86, 67.0).unwrap(),
                radius_m: 100.0,
            },
            2,
            ZoneKind::Checkpoint,
            0,
            None,
        )
        .unwrap();
        // A chord through the centre is the diameter.
        let through = circle.length_inside((24.858, 67.0), (24.862, 67.0));
        assert!((through - 200.0).abs() < 1.0, "{through}");
    }
}
