//! Re-evaluation of planned routes when threat zones change.
//!
//! Planned and in-progress movements register their route here ([`RouteWatch::watch`]) and
//! remove it when they end. Every zone created or changed is checked against every watched
//! route right after it is stored, synchronously and in memory (microseconds per route): a
//! route that passes through the zone while the zone is valid during the route's time window
//! raises a [`RouteAffected`] event on a broadcast channel, which the movement and alert
//! features consume ([`RouteWatch::subscribe`]).

use jsms_domain::geo::Coordinate;
use jsms_domain::zone::ThreatZone;
use std::collections::HashMap;
use std::sync::RwLock;
use tokio::sync::broadcast;
use uuid::Uuid;

/// A route being watched.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedRoute {
    /// The movement (or other owner) the route belongs to.
    pub owner: Uuid,
    /// The route's points, in order.
    pub points: Vec<Coordinate>,
    /// When the route is driven: from (Unix seconds).
    pub from: i64,
    /// Until.
    pub until: i64,
}

/// A watched route crosses a zone that was just created or changed.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteAffected {
    /// Whose route.
    pub owner: Uuid,
    /// The zone.
    pub zone_id: Uuid,
    /// The zone's version.
    pub zone_version: i64,
    /// The zone's severity.
    pub severity: u8,
    /// Metres of the route inside the zone.
    pub inside_m: f64,
    /// Whether the zone is one routes must avoid (severity ≥ 4).
    pub avoided: bool,
    /// When it was detected (Unix seconds).
    pub detected_at: i64,
}

/// The watched routes and the channel their events go out on.
#[derive(Debug)]
pub struct RouteWatch {
    routes: RwLock<HashMap<Uuid, WatchedRoute>>,
    events: broadcast::Sender<RouteAffected>,
}

impl Default for RouteWatch {
    fn default() -> Self {
        Self {
            routes: RwLock::new(HashMap::new()),
            events: broadcast::channel(1024).0,
        }
    }
}

impl RouteWatch {
    /// Watches a route (replacing the owner's previous one).
    pub fn watch(&self, route: WatchedRoute) {
        let mut routes = self.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        routes.insert(route.owner, route);
    }

    /// Stops watching an owner's route.
    pub fn unwatch(&self, owner: Uuid) {
        let mut routes = self.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        routes.remove(&owner);
    }

    /// Number of routes watched.
    pub fn len(&self) -> usize {
        self.routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether no route is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A receiver of every [`RouteAffected`] from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RouteAffected> {
        self.events.subscribe()
    }

    /// Checks a zone just created or changed against every watched route; sends and returns
    /// the events.
    pub fn zone_changed(&self, zone_id: Uuid, zone_version: i64, zone: &ThreatZone, now: i64) -> Vec<RouteAffected> {
        let routes = self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (a, b, c, d) = zone.bbox();
        let mut events = Vec::new();
        for route in routes.values() {
            // Valid at some moment of the route's window?
            let overlaps = zone.valid_from < route.until && zone.valid_until.is_none_or(|u| u > route.from);
            if !overlaps {
                continue;
            }
            let inside_m: f64 = route
                .points
                .windows(2)
                .filter_map(|w| match w {
                    [p, q] => Some(((p.lat(), p.lon()), (q.lat(), q.lon()))),
                    _ => None,
                })
                // Cheap rejection by bounding box before the exact length.
                .filter(|(p, q)| !(p.0.max(q.0) < a || p.0.min(q.0) > c || p.1.max(q.1) < b || p.1.min(q.1) > d))
                .map(|(p, q)| zone.length_inside(p, q))
                .sum();
            if inside_m > 0.0 {
                events.push(RouteAffected {
                    owner: route.owner,
                    zone_id,
                    zone_version,
                    severity: zone.severity,
                    inside_m,
                    avoided: zone.avoided(),
                    detected_at: now,
                });
            }
        }
        drop(routes);
        for e in &events {
            // No subscriber is not an error: the event is also returned to the caller.
            let _ = self.events.send(e.clone());
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsms_domain::zone::{ZoneKind, ZoneShape};

    fn c(lat: f64, lon: f64) -> Coordinate {
        Coordinate::new(lat, lon).unwrap()
    }

    fn circle(lat: f64, lon: f64, r: f64, from: i64, until: Option<i64>) -> ThreatZone {
        ThreatZone::new(
            ZoneShape::Circle {
                center: c(lat, lon),
                radius_m: r,
            },
            4,
            ZoneKind::Unrest,
            from,
            until,
        )
        .unwrap()
    }

    #[test]
    fn flags_exactly_the_routes_a_zone_crosses_in_their_window() {
        let watch = RouteWatch::default();
        let mut rx = watch.subscribe();
        let (crossing, elsewhere, later) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let line = vec![c(24.85, 67.00), c(24.85, 67.02)];
        watch.watch(WatchedRoute {
            owner: crossing,
            points: line.clone(),
            from: 100,
            until: 200,
        });
        watch.watch(WatchedRoute {
            owner: elsewhere,
            points: vec![c(24.90, 67.00), c(24.90, 67.02)],
            from: 100,
            until: 200,
        });
        watch.watch(WatchedRoute {
            owner: later,
            points: line,
            from: 500,
            until: 600,
        });
        let zone = circle(24.85, 67.01, 300.0, 0, Some(400));
        let id = Uuid::now_v7();
        let events = watch.zone_changed(id, 1, &zone, 150);
        assert_eq!(events.len(), 1, "{events:?}");
        let e = rx.try_recv().unwrap();
        assert_eq!(e.owner, crossing);
        assert_eq!(e.zone_id, id);
        assert!(e.avoided);
        assert!((e.inside_m - 600.0).abs() < 5.0, "{}", e.inside_m);
        assert!(rx.try_recv().is_err(), "only one event");
        watch.unwatch(crossing);
        assert!(watch.zone_changed(id, 2, &zone, 150).is_empty());
        assert_eq!(watch.len(), 2);
    }
}
