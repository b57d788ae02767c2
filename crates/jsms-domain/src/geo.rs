//! Geographic values: WGS 84 coordinates and simple polygons (RFC 7946 conventions:
//! positions are `[longitude, latitude]`, rings are closed, exterior rings counter-clockwise
//! is recommended but not required).

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// A WGS 84 position. Latitude in [-90, 90], longitude in [-180, 180], both finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinate {
    lat: f64,
    lon: f64,
}

impl Coordinate {
    /// Parses a coordinate; the error names `lat` or `lon`.
    pub fn new(lat: f64, lon: f64) -> Result<Self, ValidationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::new(
                "/lat",
                format!("latitude {lat} is outside [-90, 90]"),
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::new(
                "/lon",
                format!("longitude {lon} is outside [-180, 180]"),
            ));
        }
        Ok(Self { lat, lon })
    }

    /// Latitude in degrees.
    pub const fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub const fn lon(self) -> f64 {
        self.lon
    }
}

/// Most vertices a polygon ring may have (keeps validation and storage bounded).
pub const MAX_RING_VERTICES: usize = 10_000;

/// A simple polygon: one exterior ring, closed (first position equals last), at least four
/// positions, with no self-intersection. Holes are not supported for site perimeters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon {
    ring: Vec<Coordinate>,
}

impl Polygon {
    /// Parses a ring given as `[lon, lat]` pairs. Errors name the offending position, e.g.
    /// `/3/1` for the latitude of the fourth position.
    pub fn from_positions(positions: &[[f64; 2]]) -> Result<Self, ValidationError> {
        if positions.len() < 4 {
            return Err(ValidationError::new(
                "",
                format!(
                    "a polygon ring needs at least 4 positions (a closed triangle), got {}",
                    positions.len()
                ),
            ));
        }
        if positions.len() > MAX_RING_VERTICES {
            return Err(ValidationError::new(
                "",
                format!("a polygon ring may have at most {MAX_RING_VERTICES} positions"),
            ));
        }
        let mut ring = Vec::with_capacity(positions.len());
        for (i, [lon, lat]) in positions.iter().enumerate() {
            let c = Coordinate::new(*lat, *lon).map_err(|e| {
                let axis = if e.field == "/lat" { 1 } else { 0 };
                ValidationError::new(format!("/{i}/{axis}"), e.message)
            })?;
            ring.push(c);
        }
        if ring.first() != ring.last() {
            return Err(ValidationError::new(
                format!("/{}", ring.len() - 1),
                "the ring is not closed: its last position must equal its first",
            ));
        }
        if let Some((a, b)) = first_self_intersection(&ring) {
            return Err(ValidationError::new(
                format!("/{b}"),
                format!("the ring intersects itself (edge {a} crosses edge {b})"),
            ));
        }
        Ok(Self { ring })
    }

    /// The closed ring.
    pub fn ring(&self) -> &[Coordinate] {
        &self.ring
    }

    /// The ring as `[lon, lat]` pairs (GeoJSON order).
    pub fn positions(&self) -> Vec<[f64; 2]> {
        self.ring.iter().map(|c| [c.lon, c.lat]).collect()
    }
}

/// Returns the indices of the first pair of non-adjacent edges that intersect, if any.
fn first_self_intersection(ring: &[Coordinate]) -> Option<(usize, usize)> {
    let edges: Vec<(Coordinate, Coordinate)> = ring
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((*a, *b)),
            _ => None,
        })
        .collect();
    let n = edges.len();
    for (i, e1) in edges.iter().enumerate() {
        if e1.0 == e1.1 {
            return Some((i, i));
        }
        for (j, e2) in edges.iter().enumerate().skip(i + 1) {
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            if adjacent {
                // Adjacent edges share one endpoint; they are bad only if they overlap.
                if collinear_overlap(e1, e2) {
                    return Some((i, j));
                }
                continue;
            }
            if segments_intersect(e1.0, e1.1, e2.0, e2.1) {
                return Some((i, j));
            }
        }
    }
    None
}

fn orient(a: Coordinate, b: Coordinate, c: Coordinate) -> f64 {
    (b.lon - a.lon) * (c.lat - a.lat) - (b.lat - a.lat) * (c.lon - a.lon)
}

fn on_segment(a: Coordinate, b: Coordinate, p: Coordinate) -> bool {
    p.lon >= a.lon.min(b.lon) && p.lon <= a.lon.max(b.lon) && p.lat >= a.lat.min(b.lat) && p.lat <= a.lat.max(b.lat)
}

fn segments_intersect(p1: Coordinate, p2: Coordinate, q1: Coordinate, q2: Coordinate) -> bool {
    let d1 = orient(q1, q2, p1);
    let d2 = orient(q1, q2, p2);
    let d3 = orient(p1, p2, q1);
    let d4 = orient(p1, p2, q2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0)) && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0)) {
        return true;
    }
    (d1 == 0.0 && on_segment(q1, q2, p1))
        || (d2 == 0.0 && on_segment(q1, q2, p2))
        || (d3 == 0.0 && on_segment(p1, p2, q1))
        || (d4 == 0.0 && on_segment(p1, p2, q2))
}

fn collinear_overlap(e1: &(Coordinate, Coordinate), e2: &(Coordinate, Coordinate)) -> bool {
    // The shared vertex is e1.1 == e2.0 (or e2.1 == e1.0 for the closing pair). The edges
    // overlap when the far end of one lies on the other.
    let far_on = |edge: &(Coordinate, Coordinate), p: Coordinate| {
        orient(edge.0, edge.1, p) == 0.0 && on_segment(edge.0, edge.1, p) && p != edge.0 && p != edge.1
    };
    far_on(e1, e2.0) && e2.0 != e1.1 && e2.0 != e1.0
        || far_on(e1, e2.1) && e2.1 != e1.0 && e2.1 != e1.1
        || far_on(e2, e1.0) && e1.0 != e2.1 && e1.0 != e2.0
        || far_on(e2, e1.1) && e1.1 != e2.0 && e1.1 != e2.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(positions: &[[f64; 2]], expected_err_field: Option<&str>) {
        let got = Polygon::from_positions(positions).err().map(|e| e.field);
        assert_eq!(got.as_deref(), expected_err_field, "{positions:?}");
    }

    #[test]
    fn coordinates_are_bounded() {
        assert!(Coordinate::new(24.86, 67.0).is_ok());
        assert_eq!(Coordinate::new(91.0, 0.0).map_err(|e| e.field), Err("/lat".into()));
        assert_eq!(Coordinate::new(0.0, -180.5).map_err(|e| e.field), Err("/lon".into()));
        assert!(Coordinate::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn polygons() {
        let square = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];
        check(&square, None);
        // Not closed.
        check(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], Some("/3"));
        // Too few.
        check(&[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]], Some(""));
        // Bow tie.
        check(
            &[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]],
            Some("/2"),
        );
        // Bad latitude in the third position.
        check(
            &[[0.0, 0.0], [1.0, 0.0], [1.0, 100.0], [0.0, 1.0], [0.0, 0.0]],
            Some("/2/1"),
        );
        // Spike folding back on itself.
        check(
            &[[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
            Some("/1"),
        );
    }
}
